from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from councils import clock
from councils.api import member_auth
from councils.assemblies.models import Council
from councils.decisions import services
from councils.decisions.models import Proposal
from councils.errors import Invalid
from councils.schemas import errors

router = Router(tags=["proposals"])


class ProposalIn(Schema):
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=100_000, description="Markdown")
    deliberation_ends: AwareDatetime | None = Field(None, description="default: now + the charter's deliberation period")
    voting_ends: AwareDatetime | None = Field(None, description="default: deliberation end + the charter's voting period")
    kind: Literal["motion", "removal", "affiliation", "disaffiliation"] = "motion"
    subject_member: str | None = Field(None, description="for a removal: the member's user name")
    federation: str | None = Field(None, description="for joining or leaving a federation: its slug")


class ResultOut(Schema):
    outcome: str
    yes: int
    no: int
    abstain: int
    members: int
    turnout: float
    quorum: float
    quorum_met: bool
    decided_at: datetime


class ProposalOut(Schema):
    id: int
    council: str
    kind: str
    title: str
    body: str
    author: str
    subject_member: str | None
    federation: str | None
    created_at: datetime
    deliberation_ends: datetime
    voting_ends: datetime
    state: Literal["deliberation", "voting", "closed"]
    decision_method: str
    quorum: float
    ballots: int
    result: ResultOut | None


class CommentIn(Schema):
    body: str = Field(..., max_length=20_000)


class CommentOut(Schema):
    id: int
    author: str
    body: str
    created_at: datetime


class BallotIn(Schema):
    choice: Literal["yes", "no", "abstain"]


class BallotOut(Schema):
    proposal: int
    voter: str
    choice: str
    cast_at: datetime
    changed_at: datetime


def result_out(decision) -> dict | None:
    if decision is None:
        return None
    return {
        "outcome": decision.outcome, "yes": decision.yes, "no": decision.no, "abstain": decision.abstain,
        "members": decision.members, "turnout": decision.turnout, "quorum": float(decision.proposal.quorum),
        "quorum_met": decision.quorum_met, "decided_at": decision.decided_at,
    }


def proposal_out(proposal: Proposal) -> dict:
    now = clock.now()
    return {
        "id": proposal.pk, "council": proposal.council.slug, "kind": proposal.kind, "title": proposal.title,
        "body": proposal.body, "author": proposal.author.username,
        "subject_member": proposal.subject_member.username if proposal.subject_member_id else None,
        "federation": proposal.federation.slug if proposal.federation_id else None,
        "created_at": proposal.created_at, "deliberation_ends": proposal.deliberation_ends,
        "voting_ends": proposal.voting_ends, "state": proposal.state(now), "decision_method": proposal.decision_method,
        "quorum": float(proposal.quorum), "ballots": proposal.ballots.count(),
        "result": result_out(services.get_decision(proposal, now)),
    }


def ballot_out(ballot) -> dict:
    return {"proposal": ballot.proposal_id, "voter": ballot.voter.username, "choice": ballot.choice,
            "cast_at": ballot.cast_at, "changed_at": ballot.changed_at}


def _proposal(proposal_id: int) -> Proposal:
    proposal = get_object_or_404(
        Proposal.objects.select_related("council", "author", "subject_member", "federation"), pk=proposal_id
    )
    services.settle_due(proposal.council, clock.now())
    return proposal


@router.get("/councils/{slug}/proposals", response={200: list[ProposalOut], **errors(404)}, summary="A council's proposals")
def list_proposals(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    services.settle_due(council, clock.now())
    proposals = council.proposals.select_related("council", "author", "subject_member", "federation")[:200]
    return [proposal_out(p) for p in proposals]


@router.post("/councils/{slug}/proposals", response={201: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Make a proposal")
def create_proposal(request, slug: str, payload: ProposalIn):
    council = get_object_or_404(Council, slug=slug)
    subject_member = federation = None
    if payload.subject_member:
        subject_member = get_user_model().objects.filter(username=payload.subject_member).first()
        if subject_member is None:
            raise Invalid(f"no member named {payload.subject_member!r}", field="subject_member")
    if payload.federation:
        federation = Council.objects.filter(slug=payload.federation).first()
        if federation is None:
            raise Invalid(f"no federation {payload.federation!r}", field="federation")
    proposal = services.create_proposal(
        request.auth, council, title=payload.title, body=payload.body, deliberation_ends=payload.deliberation_ends,
        voting_ends=payload.voting_ends, kind=payload.kind, subject_member=subject_member, federation=federation,
    )
    return Status(201, proposal_out(proposal))


@router.get("/proposals/{proposal_id}", response={200: ProposalOut, **errors(404)}, summary="A proposal, with its result once decided")
def get_proposal(request, proposal_id: int):
    return proposal_out(_proposal(proposal_id))


@router.get("/proposals/{proposal_id}/comments", response={200: list[CommentOut], **errors(404)}, summary="Comments")
def list_comments(request, proposal_id: int):
    return [
        {"id": c.pk, "author": c.author.username, "body": c.body, "created_at": c.created_at}
        for c in _proposal(proposal_id).comments.select_related("author")
    ]


@router.post("/proposals/{proposal_id}/comments", response={201: CommentOut, **errors(401, 403, 404, 422)},
             auth=member_auth, summary="Comment")
def add_comment(request, proposal_id: int, payload: CommentIn):
    comment = services.add_comment(request.auth, _proposal(proposal_id), payload.body)
    return Status(201, {"id": comment.pk, "author": comment.author.username, "body": comment.body, "created_at": comment.created_at})


@router.put("/proposals/{proposal_id}/ballot", response={200: BallotOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Cast or change my ballot")
def cast_ballot(request, proposal_id: int, payload: BallotIn):
    return ballot_out(services.cast_ballot(request.auth, _proposal(proposal_id), payload.choice))


@router.get("/proposals/{proposal_id}/ballot", response={200: BallotOut, **errors(401, 404)}, auth=member_auth,
            summary="My ballot")
def my_ballot(request, proposal_id: int):
    ballot = services.ballot_of(request.auth, _proposal(proposal_id))
    if ballot is None:
        return Status(404, {"detail": "You have not voted on this proposal."})
    return ballot_out(ballot)


@router.get("/proposals/{proposal_id}/ballots", response={200: list[BallotOut], **errors(404)},
            summary="All ballots (open ballots: who voted what is public, as in the record)")
def list_ballots(request, proposal_id: int):
    return [ballot_out(b) for b in _proposal(proposal_id).ballots.select_related("voter").order_by("pk")]


@router.get("/proposals/{proposal_id}/result", response={200: ResultOut, **errors(404, 409)}, summary="The decision")
def get_result(request, proposal_id: int):
    proposal = _proposal(proposal_id)
    decision = services.get_decision(proposal)
    if decision is None:
        return Status(409, {"detail": f"Voting is open until {proposal.voting_ends.isoformat()}.", "field": None})
    return result_out(decision)
