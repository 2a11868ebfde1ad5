"""Charts drawn on the server as SVG: readable without JavaScript, printable, accessible."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

COLOURS = {"yes": "#2a7a3b", "no": "#b3261e", "abstain": "#6b6b6b"}


def bar_chart(rows: list[tuple[str, int, str]], *, title: str, total: int | None = None) -> SafeString:
    """Horizontal bars. ``rows``: (label, value, colour). Bars are scaled to ``total`` (default: the sum)."""
    total = total if total else (sum(value for _, value, _ in rows) or 1)
    width, bar_h, gap, label_w = 420, 26, 10, 90
    height = len(rows) * (bar_h + gap) + gap
    parts = []
    for i, (label, value, colour) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        length = max(0.0, (width - label_w - 70) * value / total)
        parts.append(
            format_html(
                '<text x="0" y="{}" class="chart-label">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" rx="3"></rect>'
                '<text x="{}" y="{}" class="chart-value">{} ({}%)</text>',
                f"{y + bar_h * 0.68:.1f}", label, label_w, y, f"{length:.1f}", bar_h, colour,
                f"{label_w + length + 6:.1f}", f"{y + bar_h * 0.68:.1f}", value, f"{100 * value / total:.0f}",
            )
        )
    summary = ", ".join(f"{label}: {value}" for label, value, _ in rows)
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>{}</svg>',
        width, height, f"{title}. {summary}", title, mark_safe("".join(parts)),
    )


def result_bars(decision) -> SafeString:
    rows = [("Yes", decision.yes, COLOURS["yes"]), ("No", decision.no, COLOURS["no"]), ("Abstain", decision.abstain, COLOURS["abstain"])]
    return bar_chart(rows, title="Result of the vote", total=max(decision.cast, 1))
