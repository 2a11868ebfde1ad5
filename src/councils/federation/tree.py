"""A federation's tree of councils, drawn on the server as SVG.

The federation is at the top; its member councils and member federations below,
to any depth. Each node names the council, its member count and the delegates it
sends to the federation above it. Every label is a member's text: it reaches the
markup only through ``format_html``/``escape``. No ``style`` attribute anywhere
(the site's CSP forbids it): presentation attributes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from councils.assemblies.models import Council
from councils.federation.services import current_delegates, member_count, member_councils, weight_of

BOX_W, GAP_X, LINE_H, LEVEL_H, PAD = 220, 24, 17, 60, 10
INK, MUTED, EDGE = "#1d1d1f", "#5f6368", "#8a8f98"
FILL = {"federation": "#e8eef8", "base": "#f3f2ee"}
STROKE = {"federation": "#1f5fa8", "base": "#5b6b8c"}


@dataclass
class Node:
    council: Council
    members: int
    delegates: list[str]
    weight: float | None
    children: list["Node"] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0

    @property
    def lines(self) -> int:
        return 3 + max(1, len(self.delegates)) if self.weight is not None else 2

    @property
    def height(self) -> float:
        return PAD * 2 + LINE_H * (self.lines + 0.2)


def build_tree(council: Council, now: datetime, _parent: Council | None = None, _seen: set[int] | None = None) -> Node:
    """``council`` (a federation at the top) and everything below it, with the figures the picture and the API show.

    Below the top, each node carries the delegates it sends to, and its weight in, the federation above it."""
    seen = set() if _seen is None else _seen
    seen.add(council.pk)
    node = Node(
        council=council,
        members=member_count(council, now),
        delegates=[d.member.username for d in current_delegates(council, _parent, now)] if _parent else [],
        weight=weight_of(_parent, council, now) if _parent else None,
    )
    if council.is_federation:
        for member in member_councils(council, now).order_by("name"):
            if member.pk in seen:  # the services never make a cycle; never loop if one were made
                continue
            node.children.append(build_tree(member, now, council, seen))
    return node


def tree_json(node: Node) -> dict:
    return {
        "slug": node.council.slug, "name": node.council.name, "kind": node.council.kind, "members": node.members,
        "delegates": node.delegates, "weight": node.weight, "councils": [tree_json(c) for c in node.children],
    }


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _layout(node: Node, depth_y: float, next_x: list[float], row_heights: dict[int, float], depth: int) -> None:
    node.y = depth_y
    if not node.children:
        node.x = next_x[0]
        next_x[0] += BOX_W + GAP_X
        return
    below = depth_y + row_heights[depth] + LEVEL_H
    for child in node.children:
        _layout(child, below, next_x, row_heights, depth + 1)
    node.x = (node.children[0].x + node.children[-1].x) / 2


def _row_heights(node: Node, depth: int, heights: dict[int, float]) -> dict[int, float]:
    heights[depth] = max(heights.get(depth, 0), node.height)
    for child in node.children:
        _row_heights(child, depth + 1, heights)
    return heights


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _describe(node: Node, depth: int = 0) -> list[str]:
    kind = "federation" if node.council.is_federation else node.council.get_kind_display().lower() + " council"
    words = f"{node.council.name} ({kind}, {node.members} member{'s' if node.members != 1 else ''}"
    if node.weight is not None:
        words += f", weight {_number(node.weight)}"
        words += "; delegates: " + (", ".join(node.delegates) if node.delegates else "none seated")
    words += ")"
    if node.children:
        words += ", whose members are: " + "; ".join(_describe(c, depth + 1)[0] for c in node.children)
    return [words]


def _node_svg(node: Node) -> str:
    style = "federation" if node.council.is_federation else "base"
    kind = "Federation" if node.council.is_federation else node.council.get_kind_display()
    x, y = node.x, node.y
    parts = [format_html(
        '<g class="tree-node"><title>{}</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{}" stroke="{}" stroke-width="1.5"></rect>'
        '<text x="{}" y="{}" font-weight="bold" font-size="13" fill="{}">{}</text>'
        '<text x="{}" y="{}" font-size="12" fill="{}">{} · {} member{}</text>',
        node.council.name,
        f"{x:.1f}", f"{y:.1f}", BOX_W, f"{node.height:.1f}", FILL[style], STROKE[style],
        f"{x + PAD:.1f}", f"{y + PAD + 12:.1f}", INK, _short(node.council.name),
        f"{x + PAD:.1f}", f"{y + PAD + 12 + LINE_H:.1f}", MUTED, kind, node.members, "" if node.members == 1 else "s",
    )]
    if node.weight is not None:
        parts.append(format_html('<text x="{}" y="{}" font-size="12" fill="{}">Weight in {}: {}</text>',
                                 f"{x + PAD:.1f}", f"{y + PAD + 12 + LINE_H * 2:.1f}", MUTED, "the federation", _number(node.weight)))
        names = node.delegates or []
        label = ("Delegate: " if len(names) == 1 else "Delegates: ") if names else "No delegate seated"
        lines = [(0, label + (names[0] if names else ""))] + [(66, n) for n in names[1:]]
        for i, (indent, line) in enumerate(lines):
            parts.append(format_html('<text x="{}" y="{}" font-size="12" fill="{}">{}</text>',
                                     f"{x + PAD + indent:.1f}", f"{y + PAD + 12 + LINE_H * (3 + i):.1f}", INK, _short(line, 30)))
    parts.append(mark_safe("</g>"))
    return "".join(parts)


def federation_tree_svg(federation: Council, now: datetime, tree: Node | None = None) -> SafeString:
    """The tree of councils under ``federation``, as an accessible SVG picture."""
    root = tree or build_tree(federation, now)
    heights = _row_heights(root, 0, {})
    next_x = [float(PAD)]
    _layout(root, float(PAD), next_x, heights, 0)
    nodes = list(_walk(root))
    width = max(n.x for n in nodes) + BOX_W + PAD
    height = max(n.y + n.height for n in nodes) + PAD
    edges = []
    for node in nodes:
        for child in node.children:
            x1, y1 = node.x + BOX_W / 2, node.y + node.height
            x2, y2 = child.x + BOX_W / 2, child.y
            mid = (y1 + y2) / 2
            edges.append(format_html(
                '<path d="M {} {} C {} {}, {} {}, {} {}" fill="none" stroke="{}" stroke-width="1.5"></path>',
                f"{x1:.1f}", f"{y1:.1f}", f"{x1:.1f}", f"{mid:.1f}", f"{x2:.1f}", f"{mid:.1f}", f"{x2:.1f}", f"{y2:.1f}", EDGE,
            ))
    title = f"The councils of {federation.name}"
    desc = _describe(root)[0] + "."
    return format_html(
        # Drawn at its own size (never shrunk below legibility on a phone): the page's figure scrolls sideways instead.
        '<svg class="federation-tree" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="img" aria-labelledby="tree-title-{} tree-desc-{}" font-family="system-ui, sans-serif">'
        '<title id="tree-title-{}">{}</title><desc id="tree-desc-{}">{}</desc>{}{}</svg>',
        f"{width:.0f}", f"{height:.0f}", f"{width:.0f}", f"{height:.0f}", federation.pk, federation.pk,
        federation.pk, title, federation.pk, desc, mark_safe("".join(edges)), mark_safe("".join(_node_svg(n) for n in nodes)),
    )

