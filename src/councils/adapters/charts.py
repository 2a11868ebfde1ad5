"""Charts drawn on the server as SVG: readable without JavaScript, printable, accessible."""

from __future__ import annotations

import math
import re

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext

COLOURS = {"yes": "#2a7a3b", "no": "#b3261e", "abstain": "#6b6b6b"}


def _number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")


def bar_chart(rows: list[tuple[str, float, str]], *, title: str, total: float | None = None) -> SafeString:
    """Horizontal bars. ``rows``: (label, value, colour). Bars are scaled to ``total`` (default: the sum)."""
    rows = [(label, float(value), colour) for label, value, colour in rows]
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
                f"{label_w + length + 6:.1f}", f"{y + bar_h * 0.68:.1f}", _number(value), f"{100 * value / total:.0f}",
            )
        )
    summary = ", ".join(f"{label}: {_number(value)}" for label, value, _ in rows)
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>{}</svg>',
        width, height, f"{title}. {summary}", title, mark_safe("".join(parts)),
    )


def result_bars(decision) -> SafeString:
    rows = [(gettext("Yes"), decision.yes, COLOURS["yes"]), (gettext("No"), decision.no, COLOURS["no"]), (gettext("Abstain"), decision.abstain, COLOURS["abstain"])]
    return bar_chart(rows, title=gettext("Result of the vote"), total=max(decision.cast, 1))



# ---------------------------------------------------------------- charts of a count
#
# The functions below take the plain dict of ``TallyResult.to_dict()``. Every
# label is a member's text: it reaches the markup only through ``_el``, which
# escapes text and attribute values. No ``style`` anywhere (the site's CSP
# forbids it): presentation attributes and the ``tally-chart`` class only.

INK, MUTED, LINE, STRIPE = "#1d1d1f", "#5f6368", "#d9d9de", "#f3f2ee"
WON, WON_BEFORE, OTHER, OUT = "#2a7a3b", "#a8d5b3", "#5b6b8c", "#c0554d"
INFLOW, OUTFLOW = "#1f5fa8", "#8a4b12"
WIN_CELL, LOSS_CELL, TIE_CELL = "#cfe9d6", "#f6d5d1", "#e6e6ea"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"

ROUND_METHODS = {"irv", "stv_scottish", "stv_meek"}
PAIRWISE_METHODS = {"schulze", "ranked_pairs", "copeland", "condorcet"}
TOTALS_METHODS = {"plurality", "approval", "score", "borda"}
MAJORITY_METHODS = {"majority", "supermajority", "consensus"}
METHOD_NAMES = {
    "irv": gettext_lazy("Instant-runoff count"), "stv_scottish": gettext_lazy("Scottish STV count"), "stv_meek": gettext_lazy("Meek STV count"),
    "schulze": gettext_lazy("Schulze method"), "ranked_pairs": gettext_lazy("Ranked pairs"), "copeland": gettext_lazy("Copeland method"),
    "condorcet": gettext_lazy("Head-to-head comparison"), "plurality": gettext_lazy("Plurality vote"), "approval": gettext_lazy("Approval vote"),
    "score": gettext_lazy("Score vote"), "borda": gettext_lazy("Borda count"),
}
TOTALS_WORDS = {"plurality": gettext_lazy("first preferences"), "approval": gettext_lazy("approvals"), "score": gettext_lazy("total score"),
                "borda": gettext_lazy("Borda points"), "copeland": gettext_lazy("wins minus losses"), "condorcet": gettext_lazy("head-to-head wins"),
                "schulze": gettext_lazy("options beaten"), "ranked_pairs": gettext_lazy("options ranked below")}


def result_chart(result: dict, *, title: str) -> SafeString:
    """The chart that explains ``result`` best: rounds for IRV and STV, the pairwise grid for
    Condorcet methods, bars of totals for the rest (and yes/no bars for a majority result)."""
    method = _method(result)
    if method in MAJORITY_METHODS and "yes" in result:
        rows = [(gettext("Yes"), result["yes"], COLOURS["yes"]), (gettext("No"), result["no"], COLOURS["no"]),
                (gettext("Abstain"), result["abstain"], COLOURS["abstain"])]
        if method == "consensus" and result.get("blocks"):
            rows.append((gettext("Blocks"), result["blocks"], "#7a1f1a"))
        return bar_chart(rows, title=title)
    if method in ROUND_METHODS and result.get("rounds"):
        return rounds_chart(result, title=title)
    if method in PAIRWISE_METHODS and result.get("pairwise"):
        return pairwise_chart(result, title=title)
    return totals_chart(result, title=title)


def totals_chart(result: dict, *, title: str) -> SafeString:
    """Horizontal bars of each option's total, largest first; the winners green and marked in words."""
    method = _method(result)
    totals = result.get("totals") or {}
    options = sorted(_options(result), key=lambda o: -float(totals.get(o, 0)))
    winners = list(result.get("winners") or [])
    ballots = float(result.get("ballots") or 0)
    mark = gettext("✓ elected") if int(result.get("seats") or 1) > 1 else gettext("✓ winner")
    share = method in {"plurality", "approval"} and ballots > 0
    means = (result.get("extra") or {}).get("mean") if method == "score" else None

    values = {}
    for option in options:
        words = _fmt(totals.get(option, 0))
        if share:
            words += f" ({100 * float(totals.get(option, 0)) / ballots:.0f}%)"
        if means is not None and option in means:
            words += gettext(", mean %(fmt)s") % {"fmt": _fmt(means[option])}
        values[option] = words

    fs, row_h, bar_h, top = 14, 30, 20, 32
    label_w = _text_width(options, fs, lo=60, hi=170) + 12
    value_w = _text_width([v + "  " + (mark if o in winners else "") for o, v in values.items()], 13) + 10
    width = max(480, label_w + 220 + value_w)
    bar_w = width - label_w - value_w
    scale = max([float(totals.get(o, 0)) for o in options] + [0]) or 1.0

    parts = [_el("text", _subtitle(result), x=0, y=18, font_size=13, fill=MUTED)]
    for i, option in enumerate(options):
        value = float(totals.get(option, 0))
        y = top + i * row_h
        won = option in winners
        length = max(0.0, bar_w * value / scale)
        parts.append(_label(option, x=label_w - 10, y=y + 15, size=fs, anchor="end", bold=won,
                            fill=WON if won else INK, limit=label_w - 12))
        parts.append(_el("rect", x=label_w, y=y, width=f"{length:.1f}", height=bar_h, rx=3,
                         fill=WON if won else OTHER))
        words = [values[option]]
        if won:
            words += ["  ", _el("tspan", mark, fill=WON)]
        parts.append(_el("text", words, x=f"{label_w + length + 6:.1f}", y=y + 15, font_size=13, fill=INK,
                         font_weight="bold" if won else None))
    height = top + len(options) * row_h
    if result.get("lots"):
        parts.append(_el("text", gettext("A tie was settled by lot: see the notes of the count."), x=0, y=height + 12,
                         font_size=12, fill=MUTED))
        height += 20
    return _svg(width, height + 4, title, _totals_desc(result, options, totals, winners), parts,
                _short(title, winners, result))


def rounds_chart(result: dict, *, title: str) -> SafeString:
    """Round by round: one column per round (four to a panel, panels stacked), one row per option.

    Each cell shows the option's votes as a bar and a number. ``+n`` in blue is
    what the option received in that round's transfer (for Meek STV, the change
    since the round before); ``−n`` in brown is what left the option whose votes
    moved; ✓ marks election, ✗ exclusion. The dashed line is the quota (STV),
    the dotted one half the votes still in play (IRV). The exhausted row keeps
    the running total of votes no longer with any option.
    """
    method = _method(result)
    rounds = result.get("rounds") or []
    winners = list(result.get("winners") or [])
    options = _round_order(result)
    meek = method == "stv_meek"
    quotas = [_round_quota(result, r) for r in rounds]
    majority = [sum(float(v) for v in r["tallies"].values()) / 2 if method == "irv" else None for r in rounds]
    elected_at = {name: r["number"] for r in rounds for name in r["elected"]}
    show_exhausted = any(float(r["exhausted"]) or float(r["non_transferable"]) for r in rounds)

    fs, row_h, col_w, per_panel, head_h = 13, 34, 92, 4, 38
    label_w = _text_width(["✓ " + o for o in options], fs, lo=70, hi=130) + 14
    bar_w = col_w - 18
    peak = max([float(v) for r in rounds for v in r["tallies"].values()]
               + [q for q in quotas + majority if q is not None] + [1e-9])
    # Never narrower than three rounds, so that a short count is not blown up on a wide screen.
    width = label_w + max(3, min(per_panel, len(rounds))) * col_w + 4

    parts = [_el("text", _subtitle(result), x=0, y=18, font_size=13, fill=MUTED)]
    y = 30
    for start in range(0, len(rounds), per_panel):
        panel = rounds[start:start + per_panel]
        rows = [o for o in options if any(o in r["tallies"] or o == r["transferred_from"] for r in panel)]
        n_rows = len(rows) + (1 if show_exhausted else 0)
        body = y + head_h
        for i in range(0, n_rows, 2):
            parts.append(_el("rect", x=0, y=body + i * row_h, width=width, height=row_h, fill=STRIPE))
        for c, rnd in enumerate(panel):
            x = label_w + c * col_w
            parts.append(_el("line", x1=x, y1=y + 2, x2=x, y2=body + n_rows * row_h, stroke=LINE))
            parts.append(_el("text", gettext("Round %(value)s") % {"value": rnd['number']}, x=x + 5, y=y + 15, font_size=13,
                             font_weight="bold", fill=INK))
            parts.append(_label(_round_source(rnd, quotas[rnd["number"] - 1] if meek else None), x=x + 5,
                                y=y + 31, size=11, fill=MUTED, limit=col_w - 8))
        for i, option in enumerate(rows):
            ry = body + i * row_h
            won = option in winners
            parts.append(_label(("✓ " if won else "") + option, x=label_w - 10, y=ry + 22, size=fs, anchor="end",
                                bold=won, fill=WON if won else INK, limit=label_w - 14, full=option))
            for c, rnd in enumerate(panel):
                before = rounds[rnd["number"] - 2]["tallies"] if meek and rnd["number"] > 1 else None
                parts.extend(_round_cell(rnd, option, label_w + c * col_w, ry, bar_w, peak, elected_at, before))
        if show_exhausted:
            ry = body + len(rows) * row_h
            parts.append(_el("text", gettext("Exhausted"), x=label_w - 10, y=ry + 22, font_size=fs, font_style="italic",
                             text_anchor="end", fill=MUTED))
            for c, rnd in enumerate(panel):
                x = label_w + c * col_w
                parts.append(_el("text", _fmt(rnd["exhausted"]), x=x + 5, y=ry + 22, font_size=12, fill=MUTED))
                if float(rnd["non_transferable"]):
                    parts.append(_el("text", f"+{_fmt(rnd['non_transferable'])}", x=x + col_w - 6, y=ry + 22,
                                     font_size=11, text_anchor="end", fill=INFLOW))
        for c, rnd in enumerate(panel):
            i = rnd["number"] - 1
            level, dash = (quotas[i], "5 3") if quotas[i] is not None else (majority[i], "1.5 2.5")
            if level is not None:
                qx = f"{label_w + c * col_w + 5 + bar_w * level / peak:.1f}"
                for r, option in enumerate(rows):
                    if option not in rnd["tallies"]:
                        continue
                    # Across the bar band only, so that the line never crosses a number.
                    parts.append(_el("line", x1=qx, y1=body + r * row_h + 17, x2=qx, y2=body + r * row_h + 32,
                                     stroke=INK, stroke_width=1.5, stroke_dasharray=dash))
        y = body + n_rows * row_h + 16
    y = _rounds_legend(parts, y, width, method, quotas)
    return _svg(width, y + 4, title, _rounds_desc(result, rounds, quotas), parts, _short(title, winners, result))


def pairwise_chart(result: dict, *, title: str) -> SafeString:
    """The head-to-head grid: each cell is the number preferring the row option to the column
    option; green where the row wins, red where it loses, grey for a tie. Options in the
    order of the result's ranking."""
    names = list(result.get("options") or [])
    d = result.get("pairwise") or []
    index = {name: i for i, name in enumerate(names)}
    order, place = _ranked(result)
    winners = list(result.get("winners") or [])
    n = len(order)

    fs = 13
    cell = 48 if n <= 6 else 42 if n <= 9 else 38
    labels = [f"{place[o]}. {'✓ ' if o in winners else ''}{o}" for o in order]
    label_w = _text_width(labels, fs, lo=60, hi=150 if n <= 9 else 130) + 12
    col_label = _text_width(order, 12, lo=20, hi=110)
    head = int(col_label * 0.71) + 16
    top = 30 + head
    width = int(label_w + n * cell + col_label * 0.71 + 8)

    parts = [_el("text", _subtitle(result), x=0, y=18, font_size=13, fill=MUTED)]
    for j, option in enumerate(order):
        cx = label_w + j * cell + cell / 2
        parts.append(_label(option, x=f"{cx:.1f}", y=top - 6, size=12, limit=col_label, bold=option in winners,
                            transform=f"rotate(-45 {cx:.1f} {top - 6})", fill=WON if option in winners else INK))
    for i, row in enumerate(order):
        y = top + i * cell
        won = row in winners
        parts.append(_label(labels[i], x=label_w - 10, y=y + cell / 2 + 5, size=fs, anchor="end", bold=won,
                            fill=WON if won else INK, limit=label_w - 12, full=row))
        for j, col in enumerate(order):
            x = label_w + j * cell
            if i == j:
                parts.append(_el("rect", x=x, y=y, width=cell, height=cell, fill="#ffffff", stroke="#ffffff",
                                 stroke_width=2))
                parts.append(_el("text", "–", x=x + cell / 2, y=y + cell / 2 + 5, font_size=fs, text_anchor="middle",
                                 fill=MUTED))
                continue
            mine, theirs = float(d[index[row]][index[col]]), float(d[index[col]][index[row]])
            fill = WIN_CELL if mine > theirs else LOSS_CELL if mine < theirs else TIE_CELL
            parts.append(_el("rect", x=x, y=y, width=cell, height=cell, fill=fill, stroke="#ffffff", stroke_width=2))
            parts.append(_el("text", _fmt(mine), x=x + cell / 2, y=y + cell / 2 + 5, font_size=fs,
                             text_anchor="middle", fill=INK, font_weight="bold" if mine > theirs else None))
    y = top + n * cell + 22
    parts.append(_el("text", gettext("Each cell: ballots preferring row to column."), x=0, y=y,
                     font_size=12, fill=MUTED))
    y += 10
    x = 0
    for colour, words in ((WIN_CELL, gettext("row wins")), (LOSS_CELL, gettext("row loses")), (TIE_CELL, gettext("tie"))):
        parts.append(_el("rect", x=x, y=y, width=14, height=14, fill=colour, stroke=LINE))
        parts.append(_el("text", words, x=x + 19, y=y + 12, font_size=12, fill=INK))
        x += 19 + _text_width([words], 12) + 18
    y += 14
    if result.get("lots"):
        y += 20
        parts.append(_el("text", gettext("A tie was settled by lot: see the notes of the count."), x=0, y=y, font_size=12,
                         fill=MUTED))
    return _svg(max(width, 330), y + 8, title, _pairwise_desc(result, order, place, d, index), parts,
                _short(title, winners, result))


# ---------------------------------------------------------------- pieces


def _el(tag: str, content=None, **attrs) -> SafeString:
    """One SVG element. Attribute names: ``font_size`` -> ``font-size``; ``None`` values are left out.
    Text and attribute values are escaped unless already safe (an element built here)."""
    attributes = "".join(f' {k.replace("_", "-")}="{conditional_escape(v)}"' for k, v in attrs.items() if v is not None)
    if content is None:
        return mark_safe(f"<{tag}{attributes}/>")
    if isinstance(content, (list, tuple)):
        content = mark_safe("".join(conditional_escape(c) for c in content))
    return mark_safe(f"<{tag}{attributes}>{conditional_escape(content)}</{tag}>")


def _svg(width, height, title: str, desc: str, parts: list, label: str) -> SafeString:
    return _el("svg", [_el("title", title), _el("desc", desc), *parts], xmlns="http://www.w3.org/2000/svg",
               viewBox=f"0 0 {int(width)} {int(height)}", width="100%", role="img", aria_label=label,
               font_family=FONT, **{"class": "tally-chart"})


def _label(text: str, *, x, y, size: int, anchor: str = "start", bold: bool = False, fill: str = INK,
           limit: float | None = None, full: str | None = None, transform: str | None = None) -> SafeString:
    """A member's text, cut with an ellipsis to fit ``limit`` pixels; the whole text as its tooltip."""
    shown = _fit(text, limit, size) if limit else text
    full = full if full is not None else text
    content = [_el("title", full), shown] if shown != text else shown
    return _el("text", content, x=x, y=y, font_size=size, text_anchor=anchor if anchor != "start" else None,
               font_weight="bold" if bold else None, fill=fill, transform=transform)


CHAR_EM = 0.62  # a generous average width of a character (bold included), in ems


def _text_width(texts, size: int, lo: float = 0, hi: float = 10_000) -> int:
    longest = max((len(str(t)) for t in texts), default=0)
    return math.ceil(min(hi, max(lo, longest * size * CHAR_EM)))


def _fit(text: str, limit: float, size: int) -> str:
    room = max(1, int(limit / (size * CHAR_EM) + 1e-6))
    return text if len(text) <= room else text[: max(1, room - 1)].rstrip() + "…"


def _fmt(x) -> str:
    x = float(x)
    if abs(x - round(x)) < 5e-6:
        return str(int(round(x)))
    text = f"{x:.1f}" if abs(x) >= 100 else f"{x:.2f}"
    return text.rstrip("0").rstrip(".")


def _method(result: dict) -> str:
    return str(result.get("method") or "").replace("-", "_").lower()


def _options(result: dict) -> list[str]:
    return list(result.get("options") or result.get("totals") or [])


def _subtitle(result: dict) -> str:
    method = _method(result)
    bits = [str(METHOD_NAMES.get(method, method.replace("_", " ").capitalize() or gettext("Count")))]
    seats = int(result.get("seats") or 1)
    if seats > 1:
        bits.append(gettext("%(seats)s seats") % {"seats": seats})
    if method in TOTALS_METHODS:
        bits.append(gettext("%(value)s per option") % {"value": TOTALS_WORDS[method]})
    if result.get("quota") is not None:
        bits.append((gettext("final quota %(quota)s") if method == "stv_meek" else gettext("quota %(quota)s")) % {"quota": _fmt(result["quota"])})
    if result.get("ballots"):
        bits.append(gettext("%(fmt)s ballots") % {"fmt": _fmt(result['ballots'])})
    return " · ".join(bits)


def _winners_words(result: dict) -> str:
    winners = list(result.get("winners") or [])
    if not winners:
        return gettext("No winner.")
    if int(result.get("seats") or 1) > 1 or len(winners) > 1:
        return gettext("Elected: %(winners)s.") % {"winners": ', '.join(winners)}
    return gettext("Winner: %(value)s.") % {"value": winners[0]}


def _short(title: str, winners: list[str], result: dict) -> str:
    """The accessible name: the title and who won; the ``desc`` tells the rest."""
    return f"{title}. {_winners_words(result)}"


def _lots_words(result: dict) -> str:
    return gettext(" Ties settled by lot: ") + "; ".join(result["lots"]) + "." if result.get("lots") else ""


def _totals_desc(result, options, totals, winners) -> str:
    method = _method(result)
    ballots = float(result.get("ballots") or 0)
    what = str(TOTALS_WORDS.get(method, gettext("totals")))
    items = []
    for o in options:
        value = float(totals.get(o, 0))
        words = f"{o} {_fmt(value)}"
        if method in {"plurality", "approval"} and ballots:
            words += f" ({100 * value / ballots:.0f}%)"
        items.append(words + (" (winner)" if o in winners else ""))
    return (f"{_subtitle(result)}. {_winners_words(result)} {what.capitalize()}: {', '.join(items)}."
            + _lots_words(result))


def _round_order(result: dict) -> list[str]:
    """Winners in order of election, then the rest by their last votes, then the excluded, last out first."""
    rounds = result.get("rounds") or []
    winners = [w for w in result.get("winners") or []]
    excluded = [name for r in rounds for name in r["excluded"]]
    last = rounds[-1]["tallies"] if rounds else {}
    rest = sorted((o for o in last if o not in winners and o not in excluded), key=lambda o: -float(last[o]))
    order = winners + rest + [o for o in reversed(excluded) if o not in winners]
    return order + [o for o in _options(result) if o not in order]


def _round_quota(result: dict, rnd: dict) -> float | None:
    method = _method(result)
    if method == "stv_meek":
        # Meek's quota falls as votes exhaust; the engine notes each round's ("quota 24.666667 after ...").
        match = re.search(r"quota ([0-9.]+)", rnd.get("note") or "")
        if match:
            return float(match.group(1))
    if method.startswith("stv") and result.get("quota") is not None:
        return float(result["quota"])
    return None


def _round_source(rnd: dict, quota: float | None) -> str:
    if rnd.get("transferred_from"):
        return gettext("from %(value)s") % {"value": rnd['transferred_from']}
    if quota is not None and rnd["number"] > 1:
        return gettext("quota %(fmt)s") % {"fmt": _fmt(quota)}
    return gettext("first choice") if rnd["number"] == 1 else ""


def _round_cell(rnd, option, x, y, bar_w, peak, elected_at, before) -> list:
    out = []
    tallies, number = rnd["tallies"], rnd["number"]
    value = float(tallies[option]) if option in tallies else None
    right = x + bar_w + 12
    if value is not None:
        if option in rnd["elected"]:
            colour, mark, text_fill = WON, "✓ ", WON
        elif option in rnd["excluded"]:
            colour, mark, text_fill = OUT, "✗ ", OUT
        elif elected_at.get(option, number + 1) < number:
            colour, mark, text_fill = WON_BEFORE, "", MUTED
        else:
            colour, mark, text_fill = OTHER, "", INK
        out.append(_el("text", mark + _fmt(value), x=x + 5, y=y + 15, font_size=13, fill=text_fill,
                       font_weight="bold" if mark else None))
        length = bar_w * value / peak
        out.append(_el("rect", x=x + 5, y=y + 20, width=f"{max(length, 1.5 if value > 0 else 0):.1f}", height=9,
                       rx=2, fill=colour))
    if option in rnd["transfers"]:
        out.append(_el("text", f"+{_fmt(rnd['transfers'][option])}", x=right, y=y + 15, font_size=11,
                       text_anchor="end", fill=INFLOW, font_weight="bold"))
    elif option == rnd["transferred_from"]:
        moved = sum(float(v) for v in rnd["transfers"].values()) + float(rnd["non_transferable"])
        out.append(_el("text", f"−{_fmt(moved)}", x=right, y=y + 15, font_size=11, text_anchor="end",
                       fill=OUTFLOW, font_weight="bold"))
    elif before is not None and value is not None and option in before:
        change = value - float(before[option])
        if abs(change) >= 0.005:
            out.append(_el("text", ("+" if change > 0 else "−") + _fmt(abs(change)), x=right, y=y + 15,
                           font_size=11, text_anchor="end", fill=INFLOW if change > 0 else OUTFLOW))
    return out


def _rounds_legend(parts: list, y: float, width: float, method: str, quotas) -> float:
    items = [("rect", WON, gettext("elected ✓")), ("rect", OUT, gettext("excluded ✗")), ("rect", OTHER, gettext("continuing"))]
    if method.startswith("stv"):
        items.insert(1, ("rect", WON_BEFORE, gettext("elected earlier")))
    if method == "stv_meek":
        items += [("text", INFLOW, gettext("+n gained")), ("text", OUTFLOW, gettext("−n lost since the round before"))]
    else:
        items += [("text", INFLOW, gettext("+n received in the transfer")), ("text", OUTFLOW, gettext("−n passed on"))]
    if any(q is not None for q in quotas):
        items.append(("dash", "5 3", "quota"))
    elif method == "irv":
        items.append(("dash", "1.5 2.5", gettext("half the votes still in play")))
    x = 0
    for kind, colour, words in items:
        w = (24 if kind == "dash" else 14 if kind == "rect" else 0) + _text_width([words], 12) + 22
        if x and x + w > width:
            x, y = 0, y + 20
        if kind == "rect":
            parts.append(_el("rect", x=x, y=y, width=14, height=10, rx=2, fill=colour))
            parts.append(_el("text", words, x=x + 19, y=y + 10, font_size=12, fill=INK))
        elif kind == "dash":
            parts.append(_el("line", x1=x, y1=y + 5, x2=x + 20, y2=y + 5, stroke=INK, stroke_width=1.5,
                             stroke_dasharray=colour))
            parts.append(_el("text", words, x=x + 25, y=y + 10, font_size=12, fill=INK))
        else:
            sign, rest = words.split(" ", 1)
            parts.append(_el("text", sign, x=x, y=y + 10, font_size=12, font_weight="bold", fill=colour))
            parts.append(_el("text", rest, x=x + 22, y=y + 10, font_size=12, fill=INK))
        x += w
    return y + 16


def _rounds_desc(result: dict, rounds: list, quotas: list) -> str:
    words = [ngettext("%(subtitle)s, %(rounds)s round.", "%(subtitle)s, %(rounds)s rounds.", len(rounds)) % {"subtitle": _subtitle(result), "rounds": len(rounds)}]
    for rnd, quota in zip(rounds, quotas):
        bits = [gettext("Round %(value)s:") % {"value": rnd['number']}]
        source = rnd.get("transferred_from")
        if source:
            moved = ", ".join(f"{o} +{_fmt(v)}" for o, v in rnd["transfers"].items()) or gettext("none to any option")
            bits.append(gettext("votes of %(source)s transferred (%(moved)s; %(fmt)s exhausted).") % {"source": source, "moved": moved, "fmt": _fmt(rnd['non_transferable'])})
        if _method(result) == "stv_meek" and quota is not None:
            bits.append(gettext("Quota %(fmt)s.") % {"fmt": _fmt(quota)})
        tallies = sorted(rnd["tallies"].items(), key=lambda kv: -float(kv[1]))
        bits.append(gettext("Votes: ") + ", ".join(f"{o} {_fmt(v)}" for o, v in tallies) + ".")
        if float(rnd["exhausted"]):
            bits.append(gettext("Exhausted so far: %(fmt)s.") % {"fmt": _fmt(rnd['exhausted'])})
        if rnd["elected"]:
            bits.append(gettext("Elected: %(join)s.") % {"join": ', '.join(rnd['elected'])})
        if rnd["excluded"]:
            bits.append(gettext("Excluded: %(join)s.") % {"join": ', '.join(rnd['excluded'])})
        words.append(" ".join(bits))
    words.append(_winners_words(result) + _lots_words(result))
    return " ".join(words)


def _ranked(result: dict) -> tuple[list[str], dict[str, int]]:
    """Options in the order of the ranking (ties share a place), then any the ranking leaves out, by totals."""
    totals = result.get("totals") or {}
    order, place = [], {}
    for group in result.get("ranking") or []:
        at = len(order) + 1
        for name in group:
            if name not in place:
                order.append(name)
                place[name] = at
    rest = sorted((o for o in _options(result) if o not in place), key=lambda o: -float(totals.get(o, 0)))
    for k, name in enumerate(rest):
        level = k and float(totals.get(rest[k - 1], 0)) == float(totals.get(name, 0))
        place[name] = place[rest[k - 1]] if level else len(order) + 1
        order.append(name)
    return order, place


def _pairwise_desc(result, order, place, d, index) -> str:
    ranking = ", ".join(f"{place[o]}. {o}" for o in order)
    words = [f"{_subtitle(result)}.", _winners_words(result), gettext("Order: %(ranking)s.") % {"ranking": ranking}, gettext("Head to head:")]
    pairs = []
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            ab, ba = float(d[index[a]][index[b]]), float(d[index[b]][index[a]])
            if ab > ba:
                pairs.append(gettext("%(a)s beats %(b)s %(fmt)s to %(fmt2)s") % {"a": a, "b": b, "fmt": _fmt(ab), "fmt2": _fmt(ba)})
            elif ba > ab:
                pairs.append(gettext("%(b)s beats %(a)s %(fmt)s to %(fmt2)s") % {"b": b, "a": a, "fmt": _fmt(ba), "fmt2": _fmt(ab)})
            else:
                pairs.append(gettext("%(a)s and %(b)s tie at %(fmt)s") % {"a": a, "b": b, "fmt": _fmt(ab)})
    words.append("; ".join(pairs) + "." + _lots_words(result))
    return " ".join(words)


# ---------------------------------------------------------------- charts of a plan
#
# Both take plain data (the plan's dict as ``economy.services._finish`` writes it,
# or rows computed from it) and draw with the pieces above: escaped labels, no style.


def _pct(share: float) -> str:
    share = 100 * float(share)
    if share == 0:
        return "0%"
    if share < 1:
        # Two significant digits, written out: "0.00001%", never "1e-05%".
        from decimal import Decimal

        return format(Decimal(f"{share:.2g}"), "f") + "%"
    if 99.5 <= share < 100:
        return f"{share:.1f}%"
    if share >= 10 or abs(share - round(share)) < 0.05:
        return f"{share:.0f}%"
    return f"{share:.1f}%"


def fulfilment_chart(rows: list[tuple[str, float]], *, title: str = gettext_lazy("Needs met, by neighbourhood council")) -> SafeString:
    """Horizontal bars: each council's share of its needs met (0 to 1), priority-weighted; 100% marked by a line."""
    title = str(title)
    rows = [(str(name), min(max(float(share), 0.0), 1.0)) for name, share in rows]
    fs, row_h, bar_h, top = 14, 30, 20, 30
    label_w = _text_width([name for name, _ in rows], fs, lo=60, hi=190) + 12
    bar_w, value_w = 300, 56
    width = label_w + bar_w + value_w
    parts = [_el("text", gettext("Share of each council's needs met, weighted by its priorities"), x=0, y=18, font_size=13,
                 fill=MUTED)]
    for i, (name, share) in enumerate(rows):
        y = top + i * row_h
        full = share >= 0.9995
        parts.append(_label(name, x=label_w - 10, y=y + 15, size=fs, anchor="end", limit=label_w - 12))
        parts.append(_el("rect", x=label_w, y=y, width=bar_w, height=bar_h, rx=3, fill=STRIPE))
        parts.append(_el("rect", x=label_w, y=y, width=f"{bar_w * share:.1f}", height=bar_h, rx=3,
                         fill=WON if full else OTHER))
        parts.append(_el("text", _pct(share), x=label_w + bar_w + 6, y=y + 15, font_size=13, fill=INK,
                         font_weight="bold" if full else None))
    height = top + max(len(rows), 1) * row_h
    if not rows:
        parts.append(_el("text", gettext("No neighbourhood council has needs in this plan."), x=0, y=top + 15, font_size=13,
                         fill=MUTED))
    parts.append(_el("line", x1=label_w + bar_w, y1=top - 4, x2=label_w + bar_w, y2=height - 6, stroke=INK,
                     stroke_width=1, stroke_dasharray="3 3"))
    desc = (gettext("Share of each neighbourhood council's needs the plan meets, weighted by the priorities it gave: ")
            + ("; ".join(f"{name} {_pct(share)}" for name, share in rows) if rows else gettext("no council")) + ".")
    worst = min(rows, key=lambda r: r[1]) if rows else None
    label = f"{title}. " + (gettext("Least served: %(value)s, %(pct)s.") % {"value": worst[0], "pct": _pct(worst[1])} if worst else gettext("No needs."))
    return _svg(width, height + 4, title, desc, parts, label)


def convergence_chart(points: list, *, boundaries: list | None = None, certified: list | None = None,
                      title: str = gettext_lazy("Convergence: shortages and certified gap by iteration")) -> SafeString:
    """The shortage share (hours' worth of all shortages as a share of the hours used) at each iteration of the
    procedure and the certified gap (how far below the best possible plan the best plan so far can be, at the
    iterations that repaired one: ``certified``), on one logarithmic scale, each series labelled in a legend
    above the plot; dashed lines where a round was published (``boundaries``: the iteration count at the end of
    each round, in order). A value of zero is drawn on the floor of the scale."""
    title = str(title)
    points = [(float(i), max(float(s), 0.0)) for i, s in points]
    certified = [(float(i), max(float(g), 0.0)) for i, g in (certified or [])]
    boundaries = [float(b) for b in (boundaries or [])]
    positive = [s for _, s in points + certified if s > 0]
    floor_exp = min(-4, math.floor(math.log10(min(positive)))) if positive else -4
    floor_exp = max(floor_exp, -8)
    top_exp = max(0, math.ceil(math.log10(max(positive)))) if positive else 0
    left, right, top, plot_h = 58, 16, 44, 200
    plot_w = 440
    width, height = left + plot_w + right, top + plot_h + 50
    last = max([i for i, _ in points + certified] + boundaries + [1.0])
    first = min([i for i, _ in points] + [0.0])

    def x(i: float) -> float:
        return left + plot_w * (i - first) / max(last - first, 1e-9)

    def y(share: float) -> float:
        e = math.log10(share) if share > 0 else floor_exp
        e = min(max(e, floor_exp), top_exp)
        return top + plot_h * (top_exp - e) / max(top_exp - floor_exp, 1)

    # the legend: one line per series, above the plot, so that no label crosses a line or another label
    parts = [_el("line", x1=0, y1=10, x2=18, y2=10, stroke=INFLOW, stroke_width=2),
             _el("text", gettext("shortage share (log scale)"), x=24, y=14, font_size=12, fill=INK)]
    if certified:
        parts += [_el("line", x1=0, y1=28, x2=18, y2=28, stroke=INK, stroke_width=2, stroke_dasharray="6 3"),
                  _el("text", gettext("certified gap: the plan is at most this far below the best possible plan"),
                      x=24, y=32, font_size=12, fill=INK)]
    for e in range(floor_exp, top_exp + 1):
        gy = f"{y(10.0 ** e):.1f}"
        parts.append(_el("line", x1=left, y1=gy, x2=left + plot_w, y2=gy, stroke=LINE))
        words = f"≤{_pct(10.0 ** e)}" if e == floor_exp else _pct(10.0 ** e)
        parts.append(_el("text", words, x=left - 6, y=f"{float(gy) + 4:.1f}", font_size=11, text_anchor="end",
                         fill=MUTED))
    labelled_at = -1e9
    for n, b in enumerate(boundaries, start=1):
        bx = f"{x(b):.1f}"
        parts.append(_el("line", x1=bx, y1=top, x2=bx, y2=top + plot_h, stroke=MUTED, stroke_width=1,
                         stroke_dasharray="4 3"))
        # a round's label (about 50 px wide, ending at its line) only where it clears the previous label
        if x(b) - 52 >= labelled_at and x(b) - 52 >= left:
            parts.append(_el("text", gettext("round %(n)s") % {"n": n}, x=f"{x(b) - 3:.1f}", y=top + 12, font_size=11, text_anchor="end",
                             fill=MUTED))
            labelled_at = x(b)
    if points:
        line = " ".join(f"{x(i):.1f},{y(s):.1f}" for i, s in points)
        parts.append(_el("polyline", points=line, fill="none", stroke=INFLOW, stroke_width=2))
        if len(points) <= 60:
            for i, s in points:
                parts.append(_el("circle", cx=f"{x(i):.1f}", cy=f"{y(s):.1f}", r=2.5, fill=INFLOW))
    else:
        parts.append(_el("text", gettext("No iteration computed yet."), x=left + 10, y=top + plot_h / 2, font_size=13, fill=MUTED))
    if certified:
        line = " ".join(f"{x(i):.1f},{y(g):.1f}" for i, g in certified)
        parts.append(_el("polyline", points=line, fill="none", stroke=INK, stroke_width=2, stroke_dasharray="6 3"))
        for i, g in certified[-60:]:
            parts.append(_el("circle", cx=f"{x(i):.1f}", cy=f"{y(g):.1f}", r=2.5, fill=INK))
    axis_y = top + plot_h
    parts.append(_el("line", x1=left, y1=axis_y, x2=left + plot_w, y2=axis_y, stroke=INK))
    parts.append(_el("line", x1=left, y1=top, x2=left, y2=axis_y, stroke=INK))
    step = max(1, math.ceil((last - first) / 8))
    tick = math.ceil(first)
    while tick <= last:
        parts.append(_el("text", _fmt(tick), x=f"{x(tick):.1f}", y=axis_y + 16, font_size=11, text_anchor="middle",
                         fill=MUTED))
        tick += step
    parts.append(_el("text", "iteration", x=left + plot_w / 2, y=axis_y + 36, font_size=12, text_anchor="middle",
                     fill=INK))
    if points:
        start, end = points[0], points[-1]
        desc = (ngettext("Shortage share at each iteration, log scale, over %(points)s point: %(pct)s at iteration %(fmt)s, %(pct2)s at iteration %(fmt2)s", "Shortage share at each iteration, log scale, over %(points)s points: %(pct)s at iteration %(fmt)s, %(pct2)s at iteration %(fmt2)s", len(points)) % {"points": len(points), "pct": _pct(start[1]), "fmt": _fmt(start[0]), "pct2": _pct(end[1]), "fmt2": _fmt(end[0])})
        if boundaries:
            at_round = []
            for n, b in enumerate(boundaries, start=1):
                before = [s for i, s in points if i <= b]
                if before:
                    at_round.append(gettext("round %(n)s ended at iteration %(fmt)s (%(pct)s)") % {"n": n, "fmt": _fmt(b), "pct": _pct(before[-1])})
            desc += "; " + "; ".join(at_round)
        desc += "."
        if certified:
            desc += gettext(" Certified gap at iteration %(fmt)s: %(pct)s.") % {"fmt": _fmt(certified[-1][0]), "pct": _pct(certified[-1][1])}
        label = gettext("%(title)s. From %(pct)s to %(pct2)s in %(fmt)s iterations.") % {"title": title, "pct": _pct(start[1]), "pct2": _pct(end[1]), "fmt": _fmt(end[0] - start[0] + 1)}
        if certified:
            label += gettext(" Certified gap %(pct)s.") % {"pct": _pct(certified[-1][1])}
    else:
        desc, label = gettext("No iteration computed yet."), gettext("%(title)s. No iteration yet.") % {"title": title}
    return _svg(width, height, title, desc, parts, label)
