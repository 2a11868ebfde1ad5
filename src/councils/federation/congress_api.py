"""Congresses in the API: read their state; attend, set the agenda, speak, chair, keep and approve the minutes.

Every act is a POST (the suite allows PUT, PATCH and DELETE on no federation route).

There is no operation to cancel, postpone or delete a congress: only a cancellation
petition backed by the member councils cancels one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from councils import clock
from councils.accounts.auth import member_auth, optional_auth
from councils.assemblies.models import Council
from councils.decisions.models import Proposal
from councils.errors import Invalid, NotFound
from councils.federation import congress as services
from councils.federation.models import Congress
from councils.adapters.api import errors
from django.utils.translation import gettext as _

router = Router(tags=["congress"])


class AgendaItemOut(Schema):
    position: int
    proposal: int
    title: str


class AttendanceOut(Schema):
    delegate: str
    council: str
    present_at: datetime


class SpeakerOut(Schema):
    id: int
    member: str
    item: int | None
    requested_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    limit_seconds: int
    time_left: int | None = Field(None, description="seconds left (negative: over time); null before or after the speech")


class CongressOut(Schema):
    id: int
    federation: str
    title: str
    state: Literal["scheduled", "in_session", "ended", "cancelled"]
    convened_by: str
    petition: int | None
    convened_at: datetime
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None
    chair: str | None
    current_item: int | None
    agenda: list[AgendaItemOut]
    attendance: list[AttendanceOut]
    speakers: list[SpeakerOut]
    minutes: str
    minutes_approved_by: int | None
    tally: dict[str, Any] | None


class CongressProposalIn(Schema):
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=100_000)
    dates: list[AwareDatetime] = Field(..., min_length=1, max_length=services.MAX_DATES,
                                       description="candidate opening times; the congress lasts one day")
    mandates_due: AwareDatetime | None = None
    voting_ends: AwareDatetime | None = None


class ProposalRef(Schema):
    id: int
    title: str
    options: list[str]
    voting_ends: datetime


class AgendaIn(Schema):
    proposal: int


class AdvanceIn(Schema):
    proposal: int | None = Field(None, description="an agenda item to take up; default: the next one")


class SpeakIn(Schema):
    item: int | None = Field(None, description="an agenda item; default: the current one")


class NextSpeakerIn(Schema):
    limit_seconds: int | None = Field(None, ge=services.MIN_SPEAKING_SECONDS, le=services.MAX_SPEAKING_SECONDS)


class MinutesIn(Schema):
    text: str = Field(..., max_length=services.MAX_MINUTES)


class MinutesBallotIn(Schema):
    choice: Literal["yes", "no", "abstain"]


def congress_out(congress: Congress) -> dict:
    now = clock.now()
    snap = services.snapshot(congress, now)
    return {
        "id": congress.pk, "federation": congress.federation.slug, "title": congress.title, "state": snap["state"],
        "convened_by": congress.convened_by, "petition": congress.petition_id, "convened_at": congress.convened_at,
        "starts_at": congress.starts_at, "ends_at": congress.ends_at, "cancelled_at": congress.cancelled_at,
        "chair": snap["chair"], "current_item": congress.current_item_id,
        "agenda": [{"position": i.position, "proposal": i.proposal_id, "title": i.proposal.title} for i in services.agenda_of(congress)],
        "attendance": [{"delegate": a.delegate.member.username, "council": a.delegate.council.slug, "present_at": a.present_at}
                       for a in congress.attendance.select_related("delegate__member", "delegate__council").order_by("present_at", "pk")],
        "speakers": [{"id": s.pk, "member": s.member.username, "item": s.item_id, "requested_at": s.requested_at,
                      "started_at": s.started_at, "ended_at": s.ended_at, "limit_seconds": s.limit_seconds,
                      "time_left": services.time_left(s, now)}
                     for s in congress.speakers.select_related("member").order_by("requested_at", "pk")],
        "minutes": congress.minutes, "minutes_approved_by": congress.minutes_approved_by_id, "tally": snap["tally"],
    }


def _federation(slug: str) -> Council:
    federation = get_object_or_404(Council, slug=slug)
    if not federation.is_federation:
        raise NotFound(_("no such federation"))
    return federation


def _congress(congress_id: int) -> Congress:
    congress = get_object_or_404(Congress.objects.select_related("federation"), pk=congress_id)
    services.settle_congresses(congress.federation, clock.now())
    congress.refresh_from_db()
    return congress


def _proposal_of(congress: Congress, proposal_id: int | None, field: str) -> Proposal | None:
    if proposal_id is None:
        return None
    proposal = Proposal.objects.filter(pk=proposal_id, council=congress.federation).first()
    if proposal is None:
        raise Invalid(_("no proposal %(proposal_id)s of this federation") % {"proposal_id": proposal_id}, field=field)
    return proposal


@router.get("/federations/{slug}/congresses", response={200: list[CongressOut], **errors(404)}, auth=optional_auth,
            summary="A federation's congresses")
def list_congresses(request, slug: str):
    federation = _federation(slug)
    services.settle_congresses(federation, clock.now())
    return [congress_out(c) for c in Congress.objects.filter(federation=federation).select_related("federation")[:100]]


@router.post("/federations/{slug}/congresses", response={201: ProposalRef, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Put candidate dates for a congress to the member councils (delegates)")
def propose_congress(request, slug: str, payload: CongressProposalIn):
    proposal = services.propose_congress(request.auth, _federation(slug), title=payload.title, body=payload.body,
                                         dates=list(payload.dates), mandates_due=payload.mandates_due,
                                         voting_ends=payload.voting_ends)
    return Status(201, {"id": proposal.pk, "title": proposal.title, "voting_ends": proposal.voting_ends,
                        "options": [o.label for o in proposal.options.all()]})


@router.get("/congresses/{congress_id}", response={200: CongressOut, **errors(404)}, auth=optional_auth,
            summary="A congress: agenda, attendance, speakers list, current item and live tally, minutes")
def get_congress(request, congress_id: int):
    return congress_out(_congress(congress_id))


@router.post("/congresses/{congress_id}/attendance", response={201: CongressOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Register me present (delegates, while in session)")
def attend(request, congress_id: int):
    congress = _congress(congress_id)
    services.register_attendance(request.auth, congress)
    return Status(201, congress_out(congress))


@router.post("/congresses/{congress_id}/agenda", response={201: CongressOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Add a federation proposal to the agenda (delegates)")
def add_to_agenda(request, congress_id: int, payload: AgendaIn):
    congress = _congress(congress_id)
    services.add_to_agenda(request.auth, congress, _proposal_of(congress, payload.proposal, "proposal"))
    return Status(201, congress_out(congress))


@router.post("/congresses/{congress_id}/advance", response={200: CongressOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Take up the next agenda item (the chair)")
def advance(request, congress_id: int, payload: AdvanceIn):
    congress = _congress(congress_id)
    services.advance_agenda(request.auth, congress, _proposal_of(congress, payload.proposal, "proposal"))
    return congress_out(congress)


@router.post("/congresses/{congress_id}/speakers", response={201: CongressOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Ask to speak (delegates and members of member councils, in session)")
def request_to_speak(request, congress_id: int, payload: SpeakIn):
    congress = _congress(congress_id)
    services.request_to_speak(request.auth, congress, _proposal_of(congress, payload.item, "item"))
    return Status(201, congress_out(congress))


@router.post("/congresses/{congress_id}/next-speaker", response={200: CongressOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="End the current speech and give the floor to the next speaker (the chair)")
def next_speaker(request, congress_id: int, payload: NextSpeakerIn):
    congress = _congress(congress_id)
    services.next_speaker(request.auth, congress, limit_seconds=payload.limit_seconds)
    return congress_out(congress)


@router.post("/congresses/{congress_id}/minutes", response={200: CongressOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Write the minutes (the secretary: the chair)")
def write_minutes(request, congress_id: int, payload: MinutesIn):
    return congress_out(services.write_minutes(request.auth, _congress(congress_id), payload.text))


@router.post("/congresses/{congress_id}/minutes/approval", response={201: ProposalRef, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Put the minutes to the delegates present (the secretary)")
def submit_minutes(request, congress_id: int):
    proposal = services.submit_minutes(request.auth, _congress(congress_id))
    return Status(201, {"id": proposal.pk, "title": proposal.title, "voting_ends": proposal.voting_ends, "options": []})


@router.post("/congresses/{congress_id}/minutes/ballot", response={200: CongressOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Vote on the minutes: my council's weighted ballot (delegates present)")
def vote_on_minutes(request, congress_id: int, payload: MinutesBallotIn):
    congress = _congress(congress_id)
    services.vote_on_minutes(request.auth, congress, payload.choice)
    return congress_out(congress)
