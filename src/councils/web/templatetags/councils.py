from __future__ import annotations

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from councils.adapters import charts, words

register = template.Library()

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}


@register.filter
def markdown(text: str) -> str:
    """Members' Markdown, rendered, then sanitised: no script, no style, no raw HTML gets through."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return mark_safe(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}, "abbr": {"title"}},
                               link_rel="noopener noreferrer nofollow", url_schemes={"http", "https", "mailto"}))


@register.simple_tag
def result_chart(decision):
    """The chart that explains this decision: bars for yes/no and consensus, the engine's own for the rest."""
    proposal = decision.proposal
    if proposal.is_yes_no:
        return charts.result_bars(decision)
    if proposal.is_consensus:
        rows = [(_("Agree"), decision.yes, charts.COLOURS["yes"]), (_("Stand aside"), decision.abstain, charts.COLOURS["abstain"]),
                (_("Block"), decision.blocks, charts.COLOURS["no"])]
        return charts.bar_chart(rows, title=_("Result of the consensus round"), total=max(decision.ballots, 1))
    if not decision.tally.get("winners") and not decision.tally.get("totals") and not decision.tally.get("rounds"):
        return ""
    return charts.result_chart(decision.tally, title=_("Result: %(title)s") % {"title": proposal.title})


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def percent(value, digits=0) -> str:
    """A share as a percentage: 0.25 is "25%"; never "-0%" nor an exponent."""
    return words.percent(value, int(digits or 0))


@register.filter
def duration(value) -> str:
    """A duration in words: "2 days", "1 day and 6 hours", "no time"."""
    return words.duration(value)


@register.filter
def quantity(value, unit="") -> str:
    """A quantity with at most two decimals: "725.54 km", "20 000 kg"."""
    return words.quantity(value, unit or "")


@register.filter
def said(value) -> str:
    """An internal name as words: "in_session" is "In session" (in the reader's language for a congress's states)."""
    from councils.federation.congress import STATE_WORDS

    if str(value) in STATE_WORDS:
        return str(STATE_WORDS[str(value)])
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]
