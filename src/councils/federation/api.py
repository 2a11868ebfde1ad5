"""Federations in the API: the tree of councils, federation proposals and their ballots, delegates, recall, petitions.

Reading is open to anyone; every act needs a member, and the services decide who may do what.
There is no operation by which a federation, or its delegates, touches a member council's
members, charter, officers, proposals or decisions.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from councils import clock
from councils.accounts.auth import member_auth, optional_auth
from councils.assemblies.models import Council
from councils.decisions.api import OptionOut, ResultOut, result_out
from councils.decisions.models import Decision, Proposal
from councils.decisions.services import get_decision, settle_due
from councils.errors import Invalid, NotFound
from councils.federation import petitions, services
from councils.federation.models import Congress, Delegate, FederationBallot, Petition, RecallPetition
from councils.federation.tree import build_tree, tree_json
from councils.federation.services import federation_proposal_kinds
from councils.federation.views import mandate_progress
from councils.adapters.api import errors
from django.utils.translation import gettext as _

router = Router(tags=["federation"])


class CouncilNodeOut(Schema):
    slug: str
    name: str
    kind: str
    members: int = Field(..., description="members; for a federation, the members of all its councils, to any depth")
    delegates: list[str] = Field(..., description="the delegates this council sends to the federation above it")
    weight: float | None = Field(..., description="its weight in the federation above it")
    councils: list["CouncilNodeOut"]


CouncilNodeOut.model_rebuild()


class FederationOut(Schema):
    slug: str
    name: str
    competences: list[str]
    weighting: str
    mandate_split: bool
    delegate_seats: int
    delegate_term_days: float
    delegate_term_limit: int
    mandate_period_days: float
    convocation_share: float
    convocation_delay_days: float
    referendum_council_share: float
    referendum_member_share: float
    tree: CouncilNodeOut


class ProgressOut(Schema):
    cast: int = Field(..., description="member councils whose vote (mandated or free) is cast")
    councils: int
    mandates_open: int


class FederationProposalOut(Schema):
    id: int
    federation: str
    kind: str
    title: str
    body: str
    author: str
    matter: str
    competences: list[str] | None
    decision_method: str
    mandates_due: datetime
    voting_ends: datetime
    options: list[OptionOut]
    progress: ProgressOut
    result: ResultOut | None


class FederationProposalIn(Schema):
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=100_000)
    kind: Literal["federation_motion", "competences", "federation_charter"] = "federation_motion"
    matter: str = Field("", max_length=200, description="one of the federation's competences (motions)")
    decision_method: Literal["majority", "two_thirds", "irv", "schulze", "ranked_pairs"] = "majority"
    options: list[str] = Field(default_factory=list, max_length=50, description="ranked questions: the options")
    competences: list[str] | None = Field(None, max_length=100, description="a change of competences: the new list")
    charter_changes: dict[str, Any] | None = Field(
        None, description="a change of the federation's charter: the fields to change (weighting, mandate_split, "
                          "delegate_seats, delegate_term, delegate_term_limit, mandate_period, convocation_share, "
                          "convocation_delay, referendum_council_share, referendum_member_share) and their new values; "
                          "periods in seconds, shares between 0 and 1")


class FederationBallotOut(Schema):
    proposal: int
    council: str
    delegate: str | None
    weight: float
    yes: float
    no: float
    abstain: float
    ranking: list[list[int]] | None
    mandated: bool
    mandate: int | None = Field(..., description="the council's mandate decision")
    mandate_proposal: int | None
    cast_at: datetime


class FreeVoteIn(Schema):
    choice: Literal["yes", "no", "abstain"] | None = None
    ranking: list[int | list[int]] | None = Field(None, description="ranked questions: option ids best first")


class DelegateOut(Schema):
    id: int
    member: str
    council: str
    federation: str
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    end_reason: str
    elected_by: int = Field(..., description="the election's decision")
    election: int = Field(..., description="the election proposal")
    active: bool


class RecallOut(Schema):
    id: int
    delegate: int
    opened_by: str
    opened_at: datetime
    signatures: int
    needed: int
    vote: int | None = Field(..., description="the recall vote, opened by itself at the threshold")
    reason: str = Field("", description="why its opener asks for the recall, shown to the members")


class DelegateDetailOut(DelegateOut):
    ballots: list[FederationBallotOut]
    recall_petitions: list[RecallOut]


class PetitionProgressOut(Schema):
    councils: int
    councils_needed: int
    member_councils: int
    signatures: int | None = None
    signatures_needed: int | None = None
    members: int | None = None


class PetitionOut(Schema):
    id: int
    federation: str
    kind: str
    title: str
    body: str
    target: int | None
    congress: int | None
    opened_by: str | None
    opened_at: datetime
    fulfilled_at: datetime | None
    result: int | None
    backing: list[str]
    progress: PetitionProgressOut


class PetitionIn(Schema):
    kind: Literal["convocation", "cancel_congress", "referendum"]
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=100_000)
    target: int | None = Field(None, description="a referendum: the id of the federation's decided proposal whose "
                                                 "decision it puts to the members")
    congress: int | None = Field(None, description="a cancellation: the congress")


# ----- shapes ---------------------------------------------------------------------------------


def _federation(slug: str) -> Council:
    federation = get_object_or_404(Council, slug=slug)
    if not federation.is_federation:
        raise NotFound(_("%(name)s is not a federation") % {"name": federation.name})
    return federation


def federation_proposal_out(proposal: Proposal, now) -> dict:
    return {
        "id": proposal.pk, "federation": proposal.council.slug, "kind": proposal.kind, "title": proposal.title,
        "body": proposal.public_text("body"), "author": proposal.author.username, "matter": proposal.matter,
        "competences": json.loads(proposal.competences_json) if proposal.competences_json else None,
        "decision_method": proposal.decision_method, "mandates_due": proposal.deliberation_ends,
        "voting_ends": proposal.voting_ends,
        "options": [{"id": o.pk, "label": o.label, "description": o.description, "member": None} for o in proposal.options.all()],
        "progress": mandate_progress(proposal, now), "result": result_out(get_decision(proposal, now)),
    }


def ballot_out(ballot: FederationBallot) -> dict:
    return {
        "proposal": ballot.proposal_id, "council": ballot.council.slug,
        "delegate": ballot.delegate.username if ballot.delegate_id else None, "weight": ballot.weight,
        "yes": ballot.yes, "no": ballot.no, "abstain": ballot.abstain,
        "ranking": json.loads(ballot.ranking_json) if ballot.ranking_json else None, "mandated": ballot.mandated,
        "mandate": ballot.mandate_id, "mandate_proposal": ballot.mandate.proposal_id if ballot.mandate_id else None,
        "cast_at": ballot.cast_at,
    }


def delegate_out(delegate: Delegate, now) -> dict:
    return {
        "id": delegate.pk, "member": delegate.member.username, "council": delegate.council.slug,
        "federation": delegate.federation.slug, "starts_at": delegate.starts_at, "ends_at": delegate.ends_at,
        "ended_at": delegate.ended_at, "end_reason": delegate.end_reason, "elected_by": delegate.elected_by_id,
        "election": delegate.elected_by.proposal_id, "active": delegate.active(now),
    }


def recall_out(petition: RecallPetition, now) -> dict:
    signed, needed = services.recall_progress(petition, now)
    return {"id": petition.pk, "delegate": petition.delegate_id, "opened_by": petition.opened_by.username,
            "opened_at": petition.opened_at, "signatures": signed, "needed": needed, "vote": petition.vote_id,
            "reason": petition.reason}


def petition_out(petition: Petition, now) -> dict:
    return {
        "id": petition.pk, "federation": petition.federation.slug, "kind": petition.kind, "title": petition.title,
        "body": petition.body, "target": petition.target.proposal_id if petition.target_id else None, "congress": petition.congress_id,
        "opened_by": petition.opened_by.username if petition.opened_by_id else None, "opened_at": petition.opened_at,
        "fulfilled_at": petition.fulfilled_at, "result": petition.result_id,
        "backing": [d.council.slug for d in petition.demands.select_related("council").order_by("at")],
        "progress": petitions.progress(petition, now),
    }


def _delegate_ballots(delegate: Delegate):
    ballots = FederationBallot.objects.filter(council=delegate.council, delegate=delegate.member,
                                              proposal__council=delegate.federation, cast_at__gte=delegate.starts_at)
    if delegate.ended_at:
        ballots = ballots.filter(cast_at__lte=delegate.ended_at)
    return ballots.select_related("council", "delegate", "mandate").order_by("cast_at", "pk")


# ----- the federation -------------------------------------------------------------------------


@router.get("/federations/{slug}", response={200: FederationOut, **errors(404)}, auth=optional_auth,
            summary="A federation: its charter and its tree of councils, with members, delegates and weights")
def get_federation(request, slug: str):
    federation = _federation(slug)
    now = clock.now()
    settle_due(federation, now)
    charter = services.charter_of(federation)
    return {
        "slug": federation.slug, "name": federation.name, "competences": list(charter.competences),
        "weighting": charter.weighting, "mandate_split": charter.mandate_split, "delegate_seats": charter.delegate_seats,
        "delegate_term_days": charter.delegate_term.total_seconds() / 86400, "delegate_term_limit": charter.delegate_term_limit,
        "mandate_period_days": charter.mandate_period.total_seconds() / 86400,
        "convocation_share": float(charter.convocation_share),
        "convocation_delay_days": charter.convocation_delay.total_seconds() / 86400,
        "referendum_council_share": float(charter.referendum_council_share),
        "referendum_member_share": float(charter.referendum_member_share),
        "tree": tree_json(build_tree(federation, now)),
    }


@router.get("/federations/{slug}/proposals", response={200: list[FederationProposalOut], **errors(404)}, auth=optional_auth,
            summary="The federation's proposals, with how many councils have cast their vote")
def list_federation_proposals(request, slug: str):
    federation = _federation(slug)
    now = clock.now()
    settle_due(federation, now)
    proposals = Proposal.objects.filter(council=federation, kind__in=federation_proposal_kinds(), published_at__isnull=False)
    return [federation_proposal_out(p, now) for p in proposals.select_related("council", "author")[:200]]


@router.post("/federations/{slug}/proposals", response={201: FederationProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Put a question to the federation (delegates): it goes down to every member council")
def create_federation_proposal(request, slug: str, payload: FederationProposalIn):
    federation = _federation(slug)
    proposal = services.create_federation_proposal(
        request.auth, federation, title=payload.title, body=payload.body, matter=payload.matter, kind=payload.kind,
        decision_method=payload.decision_method, options=payload.options or None, competences=payload.competences,
        payload=payload.charter_changes,
    )
    return Status(201, federation_proposal_out(proposal, clock.now()))


def _federation_proposal(proposal_id: int) -> Proposal:
    proposal = get_object_or_404(Proposal.objects.select_related("council"), pk=proposal_id, published_at__isnull=False)
    if proposal.kind not in federation_proposal_kinds() and proposal.mandate_for_id is None:
        raise NotFound(_("not a federation proposal or a mandate"))
    return proposal


@router.get("/proposals/{proposal_id}/federation-ballots", response={200: list[FederationBallotOut], **errors(404)},
            auth=optional_auth, summary="Each member council's vote at the federation: weight, how cast, and by which mandate")
def federation_ballots(request, proposal_id: int):
    proposal = _federation_proposal(proposal_id)
    settle_due(proposal.council, clock.now())
    ballots = proposal.federation_ballots.select_related("council", "delegate", "mandate").order_by("council__slug")
    return [ballot_out(b) for b in ballots]


@router.post("/proposals/{proposal_id}/free-vote", response={200: FederationBallotOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="A free-mandate delegate casts their council's vote; the council sees it at once")
def free_vote(request, proposal_id: int, payload: FreeVoteIn):
    proposal = _federation_proposal(proposal_id)
    if payload.ranking is not None:
        vote = {"ranking": [group if isinstance(group, list) else [group] for group in payload.ranking]}
    elif payload.choice:
        vote = payload.choice
    else:
        raise Invalid(_("give a choice or a ranking"), field="choice")
    ballot = services.cast_free_vote(request.auth, proposal, vote)
    return ballot_out(FederationBallot.objects.select_related("council", "delegate", "mandate").get(pk=ballot.pk))


# ----- delegates and recall ---------------------------------------------------------------------


@router.get("/federations/{slug}/delegates", response={200: list[DelegateOut], **errors(404)}, auth=optional_auth,
            summary="The delegates now seated at the federation")
def list_delegates(request, slug: str):
    federation = _federation(slug)
    now = clock.now()
    settle_due(federation, now)
    delegates = Delegate.objects.filter(federation=federation, ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
    return [delegate_out(d, now) for d in delegates.select_related("member", "council", "federation", "elected_by")]


@router.get("/delegates/{delegate_id}", response={200: DelegateDetailOut, **errors(404)}, auth=optional_auth,
            summary="A delegate: term, election, every vote cast in their seat, recall petitions")
def get_delegate(request, delegate_id: int):
    delegate = get_object_or_404(Delegate.objects.select_related("member", "council", "federation", "elected_by"), pk=delegate_id)
    now = clock.now()
    settle_due(delegate.council, now)
    delegate.refresh_from_db()
    return {**delegate_out(delegate, now), "ballots": [ballot_out(b) for b in _delegate_ballots(delegate)],
            "recall_petitions": [recall_out(p, now) for p in delegate.recall_petitions.select_related("opened_by").order_by("pk")]}


@router.post("/delegates/{delegate_id}/recall", response={201: RecallOut, **errors(401, 403, 404, 409, 422)}, auth=member_auth,
             summary="Open a recall petition (members of the delegate's council); it carries your signature",
             openapi_extra={"requestBody": {"required": False, "content": {"application/json": {"schema": {
                 "type": "object", "properties": {"reason": {"type": "string", "maxLength": 5000,
                                                             "description": "why, shown to the members"}}}}}}})
def open_recall(request, delegate_id: int):
    delegate = get_object_or_404(Delegate, pk=delegate_id)
    # The body is optional (a bare POST opens a petition without a reason, as before reasons existed), so it is read
    # here rather than declared: ninja refuses an empty body for a declared one.
    raw = request.body.strip() if request.content_type == "application/json" else b""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("reason", ""), str):
        raise Invalid(_('the body is {"reason": "..."} or empty'), field="reason")
    petition = services.open_recall_petition(request.auth, delegate, data.get("reason", ""))
    return Status(201, recall_out(petition, clock.now()))


@router.post("/recall-petitions/{petition_id}/sign", response={200: RecallOut, **errors(401, 403, 404, 409)}, auth=member_auth,
             summary="Sign a recall petition; at the threshold the recall vote opens by itself")
def sign_recall(request, petition_id: int):
    petition = get_object_or_404(RecallPetition.objects.select_related("delegate__council"), pk=petition_id)
    services.sign_recall(request.auth, petition)
    petition.refresh_from_db()
    return recall_out(petition, clock.now())


# ----- petitions --------------------------------------------------------------------------------


@router.get("/federations/{slug}/petitions", response={200: list[PetitionOut], **errors(404)}, auth=optional_auth,
            summary="Petitions to the federation, with the councils and signatures behind each against the charter's share")
def list_petitions(request, slug: str):
    federation = _federation(slug)
    now = clock.now()
    settle_due(federation, now)
    return [petition_out(p, now) for p in Petition.objects.filter(federation=federation).select_related("federation", "opened_by")[:200]]


@router.post("/federations/{slug}/petitions", response={201: PetitionOut, **errors(401, 403, 404, 409, 422)}, auth=member_auth,
             summary="Open a petition (members of member councils): a congress, its cancellation, or a referendum")
def open_petition(request, slug: str, payload: PetitionIn):
    federation = _federation(slug)
    target = congress = None
    if payload.target is not None:
        # The proposal's id, as every page and answer shows it; its decision is what the referendum puts to the members.
        target = Proposal.objects.filter(pk=payload.target).first()
        if target is None:
            raise Invalid(_("no proposal %(target)s") % {"target": payload.target}, field="target")
    if payload.congress is not None:
        congress = Congress.objects.filter(pk=payload.congress).first()
        if congress is None:
            raise Invalid(_("no such congress"), field="congress")
    petition = petitions.open_petition(request.auth, federation, kind=payload.kind, title=payload.title, body=payload.body,
                                       target=target, congress=congress)
    return Status(201, petition_out(petition, clock.now()))


@router.post("/petitions/{petition_id}/sign", response={200: PetitionOut, **errors(401, 403, 404, 409, 422)}, auth=member_auth,
             summary="Sign a referendum petition (members of member councils)")
def sign_petition(request, petition_id: int):
    petition = get_object_or_404(Petition.objects.select_related("federation"), pk=petition_id)
    petitions.sign_petition(request.auth, petition)
    petition.refresh_from_db()
    return petition_out(petition, clock.now())
