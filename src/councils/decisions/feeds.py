"""A council's voting deadlines as an iCalendar feed (RFC 5545), for any calendar application to subscribe to.

One event per published proposal, spanning its voting window. The feed is public,
like the record it is drawn from. Written by hand: the format is small, and each
rule it needs (CRLF line ends, folding at 75 octets, escaping text, UTC times) is below.
"""

from __future__ import annotations

from datetime import datetime, timezone

from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from councils import clock
from councils.assemblies.models import Council
from councils.decisions.models import Decision, Proposal

CRLF = "\r\n"
PRODID = "-//Councils//Voting deadlines//EN"


def council_calendar(request, slug):
    council = get_object_or_404(Council, slug=slug)
    proposals = (
        Proposal.objects.filter(council=council, published_at__isnull=False, withdrawn_at__isnull=True,
                                accepted_at__isnull=True)
        .select_related("council")
        .order_by("voting_ends", "pk")
    )
    decided = dict(Decision.objects.filter(proposal__council=council).values_list("proposal_id", "outcome"))
    body = calendar(council, list(proposals), now=clock.now(), host=request.get_host().split(":")[0],
                    absolute=request.build_absolute_uri, decided=decided)
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{council.slug}-votes.ics"'
    response["Cache-Control"] = "public, max-age=300"
    return response


def calendar(council: Council, proposals: list[Proposal], *, now: datetime, host: str, absolute,
             decided: dict[int, str] | None = None) -> str:
    """The whole VCALENDAR text. ``absolute`` turns a path into a full URL."""
    from councils.decisions.models import Outcome

    decided = decided or {}
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(council.name + ' votes')}",
    ]
    stamp = utc(now)
    for proposal in proposals:
        url = absolute(proposal.get_absolute_url())
        description = (
            f"Vote of {council.name} on \u201c{proposal.title}\u201d ({proposal.decision_method_label}"
            f"{', secret ballot' if proposal.secret else ''}).\n"
            f"Voting opens {utc_readable(proposal.deliberation_ends)} and closes {utc_readable(proposal.voting_ends)}.\n"
            f"Members vote on the proposal's page, logged in: {url}"
        )
        if proposal.pk in decided:
            description += f"\nDecided: {Outcome(decided[proposal.pk]).label}."
        lines += [
            "BEGIN:VEVENT",
            f"UID:proposal-{proposal.pk}@{host or 'councils'}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc(proposal.deliberation_ends)}",
            f"DTEND:{utc(proposal.voting_ends)}",
            f"SUMMARY:{escape_text('Vote: ' + proposal.title)}",
            f"DESCRIPTION:{escape_text(description)}",
            f"URL:{url}",
            "TRANSP:TRANSPARENT",  # a vote does not make anyone busy
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def utc(at: datetime) -> str:
    """A DATE-TIME in UTC form: 20300302T090000Z."""
    return at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def utc_readable(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11: backslash, semicolon and comma escaped; line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    # Other control characters are not allowed in TEXT.
    return "".join(ch for ch in value if ch == "\t" or ord(ch) >= 0x20 and ord(ch) != 0x7F)


def fold(line: str, limit: int = 75) -> str:
    """RFC 5545 3.1: lines longer than 75 octets continue on the next line after CRLF and one space.
    Never splits a UTF-8 character."""
    parts, current, size = [], [], 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        # Continuation lines start with a space, which counts towards their 75 octets.
        room = limit if not parts else limit - 1
        if size + width > room:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts)
