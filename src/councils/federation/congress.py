"""Congresses: a federation's meetings of mandated delegates.

A congress is convened in one of two ways, and in both the member councils decide:

* by petition (``councils.federation.petitions``): when councils holding the
  charter's share demand it, each by its own decision, it is convened by itself
  for ``at + convocation_delay``;
* by schedule: a delegate puts candidate dates to the federation
  (``propose_congress``); it goes down to every member council as a mandate vote,
  like any federation decision, and the federation's instant-runoff count picks a
  date or "No congress". The congress exists from the moment that vote closes.

Nobody can cancel or postpone a congress: there is no such service. Only a
``cancel_congress`` petition backed by the charter's share of member councils
cancels one (``petitions.fulfil``), and no rule moves its date.

In session, the chair is the delegate who registered present first and still holds
their seat (recalled or gone, the next in order of arrival takes over). The chair's
powers are procedural only: take up the next agenda item, give the floor. The chair
is also the secretary: they write the minutes, and the delegates present approve
them by a federation vote in which each present delegate casts their council's
weighted ballot. Every act is a record entry on the federation's chain.

State that depends on time (scheduled, in session, ended; a decided date turned into
a congress; approved minutes) is derived from stored times when read.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone as dt_timezone

from django.db import transaction
from django.db.models import Max

from councils.accounts.signing import member_act
from councils import clock
from councils.assemblies.models import Council, DecisionMethod
from councils.assemblies.permissions import require_person
from councils.decisions.models import Decision, Outcome, Proposal, ProposalState
from councils.errors import Closed, Conflict, Invalid, NotAllowed
from councils.federation.models import AgendaItem, Attendance, Congress, Delegate, FederationBallot, Speaker
from councils.federation.services import (
    base_member_ids,
    charter_of,
    current_affiliation,
    member_councils,
    require_delegate,
    send_down,
    weight_of,
)
from councils.record.services import append, lock_chains
from councils.federation.models import FederationKind

SCHEDULE_MATTER = "congress date"
MINUTES_MATTER = "congress minutes"
NO_CONGRESS = "No congress"
DATE_FORMAT = "%Y-%m-%d %H:%M UTC"
CONGRESS_LENGTH = timedelta(days=1)
MAX_DATES = 5
DEFAULT_SPEAKING_SECONDS = 180
MIN_SPEAKING_SECONDS, MAX_SPEAKING_SECONDS = 30, 3600
MAX_MINUTES = 100_000


class CongressState:
    SCHEDULED = "scheduled"
    IN_SESSION = "in_session"
    ENDED = "ended"
    CANCELLED = "cancelled"


def congress_state(congress: Congress, now: datetime | None = None) -> str:
    now = now or clock.now()
    if congress.cancelled_at is not None:
        return CongressState.CANCELLED
    if now < congress.starts_at:
        return CongressState.SCHEDULED
    if now < congress.ends_at:
        return CongressState.IN_SESSION
    return CongressState.ENDED


def _require_in_session(congress: Congress, now, doing: str) -> None:
    state = congress_state(congress, now)
    if state != CongressState.IN_SESSION:
        words = {CongressState.SCHEDULED: f"it opens {congress.starts_at.isoformat()}",
                 CongressState.ENDED: "it has ended", CongressState.CANCELLED: "it was cancelled by its member councils"}
        raise Closed(f"You may {doing} only while the congress is in session: {words[state]}.")


# ----- convening by schedule ---------------------------------------------------------------


def date_label(at: datetime) -> str:
    return at.astimezone(dt_timezone.utc).strftime(DATE_FORMAT)


def parse_date_label(label: str) -> datetime | None:
    try:
        return datetime.strptime(label, DATE_FORMAT).replace(tzinfo=dt_timezone.utc)
    except (TypeError, ValueError):
        return None


def propose_congress(actor, federation: Council, *, title: str, dates: list[datetime], body: str = "",
                     mandates_due: datetime | None = None, voting_ends: datetime | None = None) -> Proposal:
    """A delegate asks the federation to hold a congress on one of some dates; the member councils choose by mandate.

    The question is a ranked vote (instant-runoff) between the dates and "No congress": it goes down to every
    member council, which votes its mandate; the federation's count weighs the councils as its charter says.
    """
    from councils.decisions.services import clean_text, new_proposal, settle_due

    now = clock.now()
    if not federation.is_federation:
        raise Invalid("congresses are held by a federation", field="federation")
    settle_due(federation, now)
    require_delegate(actor, federation, "propose a congress")
    title, body = clean_text(title, body)
    charter = charter_of(federation)
    mandates_due = mandates_due or now + charter.mandate_period
    if mandates_due - now > timedelta(days=366):
        raise Invalid("the mandates are due within a year", field="mandates_due")
    voting_ends = voting_ends or mandates_due + federation.charter.voting_period
    if mandates_due <= now or voting_ends <= mandates_due:
        raise Invalid("the mandates are due in the future, and the federation's vote ends after them", field="voting_ends")
    if voting_ends - now > timedelta(days=366):
        raise Invalid("the federation's vote must end within a year", field="voting_ends")
    dates = list(dates or [])
    if not 1 <= len(dates) <= MAX_DATES:
        raise Invalid(f"propose from 1 to {MAX_DATES} dates", field="dates")
    labels = []
    for at in dates:
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise Invalid("each date needs a time zone", field="dates")
        if at <= voting_ends:
            raise Invalid("each date falls after the federation's vote on it ends", field="dates")
        if at - now > timedelta(days=2 * 366):
            raise Invalid("a congress is proposed at most two years ahead", field="dates")
        labels.append(date_label(at))
    if len(set(labels)) != len(labels):
        raise Invalid("two dates are the same minute", field="dates")
    options = [{"label": label, "description": f"the congress opens {label} and lasts one day", "member": None}
               for label in labels] + [{"label": NO_CONGRESS, "description": "no congress is held", "member": None}]
    with transaction.atomic():
        proposal = new_proposal(
            federation, actor, now, kind=FederationKind.FEDERATION_MOTION, title=title, body=body,
            deliberation_ends=mandates_due, voting_ends=voting_ends, decision_method=DecisionMethod.IRV,
            options=options, matter=SCHEDULE_MATTER,
        )
        send_down(proposal, now)
    return proposal


def scheduling_proposals(federation: Council):
    return Proposal.objects.filter(council=federation, kind=FederationKind.FEDERATION_MOTION, matter=SCHEDULE_MATTER,
                                   published_at__isnull=False)


def _convene_by_decision(decision: Decision) -> Congress | None:
    proposal = decision.proposal
    if decision.outcome != Outcome.DECIDED or not decision.winners:
        return None
    starts = parse_date_label(decision.winners[0])
    if starts is None:  # "No congress"
        return None
    federation = proposal.council
    lock_chains(federation)
    existing = Congress.objects.filter(federation=federation, convened_by="decision", convened_at=decision.decided_at,
                                       title=proposal.title, starts_at=starts).first()
    if existing is not None:
        return existing
    congress = Congress.objects.create(federation=federation, title=proposal.title, convened_at=decision.decided_at,
                                       starts_at=starts, ends_at=starts + CONGRESS_LENGTH, convened_by="decision")
    append(federation, kind="congress.convened", subject=congress.subject, state=congress.record_state(),
           at=decision.decided_at, decision=decision.pk)
    return congress


def settle_congresses(federation: Council, now: datetime | None = None) -> None:
    """Bring the federation up to ``now``: votes closed, petitions fulfilled, decided dates convened, minutes approved."""
    from councils.decisions.services import settle_due

    now = now or clock.now()
    settle_due(federation, now)
    decided = Decision.objects.filter(proposal__in=scheduling_proposals(federation), outcome=Outcome.DECIDED,
                                      decided_at__lte=now).select_related("proposal")
    for decision in decided:
        with transaction.atomic():
            _convene_by_decision(decision)
    approvals = Decision.objects.filter(
        proposal__council=federation, proposal__matter=MINUTES_MATTER, proposal__congress__minutes_approved_by__isnull=True,
        outcome=Outcome.ADOPTED, decided_at__lte=now,
    ).select_related("proposal__congress")
    for decision in approvals:
        with transaction.atomic():
            lock_chains(federation)
            congress = Congress.objects.get(pk=decision.proposal.congress_id)
            if congress.minutes_approved_by_id is None:
                congress.minutes = decision.proposal.body
                congress.minutes_approved_by = decision
                congress.save(update_fields=["minutes", "minutes_approved_by"])
                append(federation, kind="congress.minutes_approved", subject=congress.subject, state=congress.record_state(),
                       at=decision.decided_at, decision=decision.pk)


# ----- attendance and the chair --------------------------------------------------------------


def _delegate_in_office(delegate: Delegate, now) -> bool:
    return delegate.active(now) and current_affiliation(delegate.federation, delegate.council) is not None


def present_delegates(congress: Congress, now: datetime | None = None) -> list[Delegate]:
    """Delegates registered present, in order of arrival, who still hold their seat."""
    now = now or clock.now()
    rows = congress.attendance.select_related("delegate__member", "delegate__council", "delegate__federation").order_by(
        "present_at", "pk")
    return [a.delegate for a in rows if _delegate_in_office(a.delegate, now)]


def chair_of(congress: Congress, now: datetime | None = None) -> Delegate | None:
    """The first delegate present who still holds their seat chairs (and keeps the minutes)."""
    present = present_delegates(congress, now)
    return present[0] if present else None


def _require_chair(actor, congress: Congress, now, doing: str) -> Delegate:
    require_person(actor, doing)
    chair = chair_of(congress, now)
    if chair is None or chair.member_id != actor.pk:
        raise NotAllowed(f"Only the chair (the first delegate present) may {doing}; the chair's powers are procedural only.")
    return chair


def register_attendance(actor, congress: Congress) -> Attendance:
    """A delegate marks themselves present while the congress is in session."""
    now = clock.now()
    delegate = require_delegate(actor, congress.federation, "attend its congress")
    _require_in_session(congress, now, "register your attendance")
    if Attendance.objects.filter(congress=congress, delegate=delegate).exists():
        raise Conflict("You are already registered present.")
    with transaction.atomic():
        lock_chains(congress.federation)
        attendance = Attendance.objects.create(congress=congress, delegate=delegate, present_at=now)
        append(congress.federation, kind="congress.attendance", subject=attendance.subject, state=attendance.record_state(),
               at=now, actor=actor)
    return attendance


# ----- agenda -------------------------------------------------------------------------------------


def add_to_agenda(actor, congress: Congress, proposal: Proposal) -> AgendaItem:
    """A delegate puts an undecided federation proposal on the agenda, before or during the congress; items keep that order."""
    now = clock.now()
    federation = congress.federation
    require_delegate(actor, federation, "add items to its congress's agenda")
    state = congress_state(congress, now)
    if state in (CongressState.ENDED, CongressState.CANCELLED):
        raise Closed("The agenda is closed: the congress has ended or was cancelled.")
    if (proposal.council_id != federation.pk or proposal.mandate_for_id is not None or proposal.published_at is None
            or proposal.kind not in (FederationKind.FEDERATION_MOTION, FederationKind.COMPETENCES,
                                     FederationKind.FEDERATION_CHARTER)):
        raise Invalid(f"the agenda lists {federation.name}'s own proposals", field="proposal")
    if proposal.state(now) in (ProposalState.CLOSED, ProposalState.WITHDRAWN):
        raise Invalid("this proposal is already decided or withdrawn", field="proposal")
    with transaction.atomic():
        lock_chains(federation)
        if AgendaItem.objects.filter(congress=congress, proposal=proposal).exists():
            raise Conflict("This proposal is already on the agenda.")
        last = AgendaItem.objects.filter(congress=congress).aggregate(last=Max("position"))["last"]
        item = AgendaItem.objects.create(congress=congress, proposal=proposal, position=(last or 0) + 1)
        append(federation, kind="congress.agenda_item_added", subject=item.subject, state=item.record_state(), at=now,
               actor=actor)
    return item


def agenda_of(congress: Congress) -> list[AgendaItem]:
    return list(congress.agenda.select_related("proposal").order_by("position", "pk"))


def advance_agenda(actor, congress: Congress, proposal: Proposal | None = None) -> Congress:
    """The chair takes up the next agenda item (or a named one); whoever was speaking yields the floor."""
    now = clock.now()
    _require_in_session(congress, now, "move through the agenda")
    _require_chair(actor, congress, now, "move through the agenda")
    items = agenda_of(congress)
    if proposal is None:
        positions = [i.proposal_id for i in items]
        if congress.current_item_id in positions:
            following = items[positions.index(congress.current_item_id) + 1:]
        else:
            following = items
        if not following:
            raise Closed("This is the end of the agenda.")
        proposal = following[0].proposal
    elif proposal.pk not in {i.proposal_id for i in items}:
        raise Invalid("take up an item on the agenda", field="proposal")
    with transaction.atomic():
        lock_chains(congress.federation)
        _end_speech(congress, now, actor)
        congress.current_item = proposal
        congress.save(update_fields=["current_item"])
        append(congress.federation, kind="congress.item_taken_up", subject=congress.subject, state=congress.record_state(),
               at=now, actor=actor)
    return congress


# ----- speakers list ----------------------------------------------------------------------------------


def current_speaker(congress: Congress) -> Speaker | None:
    return congress.speakers.filter(started_at__isnull=False, ended_at__isnull=True).select_related("member").order_by(
        "-started_at", "-pk").first()


def waiting_speakers(congress: Congress, item: Proposal | None = None, *, all_items: bool = False):
    qs = congress.speakers.filter(started_at__isnull=True, ended_at__isnull=True).select_related("member", "item")
    if not all_items:
        qs = qs.filter(item=item) if item is not None else qs.filter(item__isnull=True)
    return qs.order_by("requested_at", "pk")


def time_left(speaker: Speaker, now: datetime | None = None) -> int | None:
    """Seconds of the speaking time left (negative: over time); None before the speech or after it."""
    if speaker.started_at is None:
        return None
    end = speaker.ended_at or now or clock.now()
    return speaker.limit_seconds - int((end - speaker.started_at).total_seconds())


def request_to_speak(actor, congress: Congress, item: Proposal | None = None) -> Speaker:
    """Delegates and members of the member councils put their names on the speakers list of an item (default: the current one)."""
    now = clock.now()
    require_person(actor, "ask to speak")
    federation = congress.federation
    is_delegate = Delegate.objects.filter(federation=federation, member=actor, ended_at__isnull=True, starts_at__lte=now,
                                          ends_at__gt=now).exists()
    if not is_delegate and actor.pk not in base_member_ids(federation, now):
        raise NotAllowed(f"Delegates and members of {federation.name}'s member councils speak at its congress.")
    _require_in_session(congress, now, "ask to speak")
    item = item if item is not None else congress.current_item
    if item is not None and not congress.agenda.filter(proposal=item).exists():
        raise Invalid("ask to speak on an item of the agenda", field="item")
    with transaction.atomic():
        lock_chains(federation)
        if waiting_speakers(congress, item).filter(member=actor).exists():
            raise Conflict("You are already on the speakers list for this item.")
        speaker = Speaker.objects.create(congress=congress, item=item, member=actor, requested_at=now,
                                         limit_seconds=DEFAULT_SPEAKING_SECONDS)
        append(federation, kind="congress.speaker_listed", subject=speaker.subject, state=speaker.record_state(), at=now,
               actor=actor)
    return speaker


def _end_speech(congress: Congress, now, actor) -> None:
    speaking = current_speaker(congress)
    if speaking is not None:
        speaking.ended_at = now
        speaking.save(update_fields=["ended_at"])
        append(congress.federation, kind="congress.speaker_ended", subject=speaking.subject, state=speaking.record_state(),
               at=now, actor=actor)


def next_speaker(actor, congress: Congress, *, limit_seconds: int | None = None) -> Speaker | None:
    """The chair ends the current speech and gives the floor to the first one waiting on the current item, in order of request."""
    now = clock.now()
    _require_in_session(congress, now, "give the floor")
    _require_chair(actor, congress, now, "give the floor")
    if limit_seconds is not None and (not isinstance(limit_seconds, int)
                                      or not MIN_SPEAKING_SECONDS <= limit_seconds <= MAX_SPEAKING_SECONDS):
        raise Invalid(f"speaking time is from {MIN_SPEAKING_SECONDS} to {MAX_SPEAKING_SECONDS} seconds", field="limit_seconds")
    with transaction.atomic():
        lock_chains(congress.federation)
        _end_speech(congress, now, actor)
        speaker = waiting_speakers(congress, congress.current_item).first()
        if speaker is None:
            return None
        speaker.started_at = now
        if limit_seconds is not None:
            speaker.limit_seconds = limit_seconds
        speaker.save(update_fields=["started_at", "limit_seconds"])
        append(congress.federation, kind="congress.floor_given", subject=speaker.subject, state=speaker.record_state(),
               at=now, actor=actor)
    return speaker


# ----- minutes --------------------------------------------------------------------------------------------


def minutes_votes(congress: Congress):
    return Proposal.objects.filter(council=congress.federation, matter=MINUTES_MATTER, congress=congress,
                                   published_at__isnull=False).order_by("-created_at", "-pk")


def open_minutes_vote(congress: Congress, now=None) -> Proposal | None:
    now = now or clock.now()
    return minutes_votes(congress).filter(voting_ends__gt=now, withdrawn_at__isnull=True).first()


def _require_secretary(actor, congress: Congress, now, doing: str) -> Delegate:
    require_person(actor, doing)
    state = congress_state(congress, now)
    if state in (CongressState.SCHEDULED, CongressState.CANCELLED):
        raise Closed("Minutes are written once the congress has met.")
    chair = chair_of(congress, now)
    if chair is None or chair.member_id != actor.pk:
        raise NotAllowed(f"Only the congress's secretary (its chair, the first delegate present) may {doing}.")
    if congress.minutes_approved_by_id is not None:
        raise Closed("The congress has approved its minutes: they stand as approved.")
    if open_minutes_vote(congress, now) is not None:
        raise Closed("The delegates are voting on the minutes: wait for the vote to close.")
    return chair


def write_minutes(actor, congress: Congress, text: str) -> Congress:
    """The secretary writes (and rewrites) the minutes, during the congress or after it, until they are approved."""
    now = clock.now()
    settle_congresses(congress.federation, now)
    congress.refresh_from_db()
    _require_secretary(actor, congress, now, "write the minutes")
    text = (text or "").strip()
    if len(text) > MAX_MINUTES:
        raise Invalid(f"minutes have at most {MAX_MINUTES:,} characters", field="minutes")
    with transaction.atomic():
        lock_chains(congress.federation)
        congress.minutes = text
        congress.save(update_fields=["minutes"])
        append(congress.federation, kind="congress.minutes_written", subject=congress.subject, state=congress.record_state(),
               at=now, actor=actor)
    return congress


def submit_minutes(actor, congress: Congress) -> Proposal:
    """The secretary puts the minutes, as written now, to the delegates present: yes or no, until the congress ends (an hour at least)."""
    from councils.decisions.services import new_proposal

    now = clock.now()
    settle_congresses(congress.federation, now)
    congress.refresh_from_db()
    _require_secretary(actor, congress, now, "put the minutes to the vote")
    if not congress.minutes:
        raise Invalid("write the minutes first", field="minutes")
    voting_ends = max(congress.ends_at, now + timedelta(hours=1))
    with transaction.atomic():
        lock_chains(congress.federation)
        proposal = new_proposal(
            congress.federation, actor, now, kind=FederationKind.FEDERATION_MOTION,
            title=f"Minutes of {congress.title}"[:200], body=congress.minutes, deliberation_ends=now,
            voting_ends=voting_ends, decision_method=DecisionMethod.MAJORITY, matter=MINUTES_MATTER, congress=congress,
        )
    return proposal


def vote_on_minutes(actor, congress: Congress, choice: str) -> FederationBallot:
    """A delegate present at the congress casts their council's weighted ballot on the minutes."""
    now = clock.now()
    federation = congress.federation
    delegate = require_delegate(actor, federation, "vote on the congress's minutes")
    if not Attendance.objects.filter(congress=congress, delegate=delegate).exists():
        raise NotAllowed("The delegates who attended the congress approve its minutes.")
    proposal = open_minutes_vote(congress, now)
    if proposal is None:
        raise Closed("No vote on the minutes is open.")
    if choice not in ("yes", "no", "abstain"):
        raise Invalid("vote yes, no or abstain", field="choice")
    council = delegate.council
    weight = weight_of(federation, council, now)
    with transaction.atomic():
        lock_chains(council, federation)
        signed = member_act(actor, act="federation_ballot.cast", council=federation, object=proposal.subject, now=now,
                            content={"council": council.slug, "choice": choice, "content": None})
        ballot = FederationBallot.objects.filter(proposal=proposal, council=council).first() or FederationBallot(
            proposal=proposal, council=council, mandated=False)
        ballot.delegate, ballot.weight, ballot.cast_at = actor, weight, now
        ballot.yes = weight if choice == "yes" else 0
        ballot.no = weight if choice == "no" else 0
        ballot.abstain = weight if choice == "abstain" else 0
        ballot.save()
        for chain in (council, federation):
            append(chain, kind="federation_ballot.minutes", subject=ballot.subject, state=ballot.record_state(), at=now,
                   actor=actor, signed=signed)
    return ballot


# ----- what is shown, live ------------------------------------------------------------------------------


def live_tally(proposal: Proposal | None, now: datetime | None = None) -> dict | None:
    """The current item's federation ballots so far: yes/no/abstain weights, or first preferences of a ranked vote."""
    if proposal is None:
        return None
    now = now or clock.now()
    federation = proposal.council
    members = {c.pk for c in member_councils(federation, now)}
    ballots = [b for b in proposal.federation_ballots.all() if b.council_id in members]
    result = {"proposal": proposal.pk, "method": proposal.decision_method, "ballots": len(ballots),
              "member_councils": len(members), "weight_cast": sum(b.weight for b in ballots)}
    if proposal.is_ranked:
        options = {o.pk: o.label for o in proposal.options.all()}
        first = {label: 0.0 for label in options.values()}
        for b in ballots:
            groups = json.loads(b.ranking_json) if b.ranking_json else []
            if groups and groups[0]:
                for option in groups[0]:
                    if option in options:
                        first[options[option]] += b.weight / len(groups[0])
        result["rows"] = [{"label": label, "value": value} for label, value in first.items()]
    else:
        result["rows"] = [{"label": "Yes", "value": sum(b.yes for b in ballots)},
                          {"label": "No", "value": sum(b.no for b in ballots)},
                          {"label": "Abstain", "value": sum(b.abstain for b in ballots)}]
    return result


def tally_chart(tally: dict | None) -> str:
    from councils.adapters.charts import COLOURS, bar_chart

    if not tally:
        return ""
    colours = {"Yes": COLOURS["yes"], "No": COLOURS["no"], "Abstain": COLOURS["abstain"]}
    rows = [(r["label"], r["value"], colours.get(r["label"], "#5b6b8c")) for r in tally["rows"]]
    total = max(sum(r["value"] for r in tally["rows"]), 1)
    return str(bar_chart(rows, title="Votes cast so far", total=total))


def _time_text(left: int | None) -> str:
    if left is None:
        return ""
    if left < 0:
        return f"over time by {-left // 60}:{-left % 60:02d}"
    return f"{left // 60}:{left % 60:02d} left"


def snapshot(congress: Congress, now: datetime | None = None) -> dict:
    """Everything the congress page, the projector and the live stream show, as plain data."""
    now = now or clock.now()
    item = congress.current_item
    speaking = current_speaker(congress)
    chair = chair_of(congress, now)
    tally = live_tally(item, now)
    left = time_left(speaking, now) if speaking else None
    return {
        "congress": congress.pk,
        "state": congress_state(congress, now),
        "now": now.isoformat(),
        "chair": chair.member.username if chair else None,
        "item": {"id": item.pk, "title": item.title} if item else None,
        "speaker": None if speaking is None else {
            "member": speaking.member.username, "limit_seconds": speaking.limit_seconds, "time_left": left,
            "over_time": left is not None and left < 0, "started_at": speaking.started_at.isoformat(),
            "time_text": _time_text(left)},
        "waiting": [s.member.username for s in waiting_speakers(congress, item)],
        "tally": tally,
    }
