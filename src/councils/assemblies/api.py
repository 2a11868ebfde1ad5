from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from councils import clock
from councils.accounts.auth import member_auth
from councils.assemblies import hooks, services
from councils.assemblies.models import Council
from councils.record import services as record
from councils.adapters.api import errors
from councils.errors import NotFound
from django.utils.translation import gettext as _

router = Router(tags=["councils"])


class CharterIn(Schema):
    admission: Literal["open", "vote"] | None = None
    decision_method: Literal["majority", "two_thirds", "majority_of_members"] | None = None
    quorum: float | None = Field(None, ge=0, le=1, description="share of members who must take part")
    deliberation_hours: float | None = Field(None, ge=0, le=24 * 365)
    voting_hours: float | None = Field(None, gt=0, le=24 * 365)
    min_deliberation_hours: float | None = Field(None, ge=0, le=24 * 365, description="floor no author or officer goes under (default 48)")
    min_voting_hours: float | None = Field(None, ge=0, le=24 * 365, description="floor no author or officer goes under (default 24)")
    max_postponement_hours: float | None = Field(None, ge=0, le=24 * 365,
                                                 description="how far a proposal's close may be postponed in all without the council's vote (default 720)")


class CharterOut(Schema):
    admission: str
    decision_method: str
    quorum: float
    deliberation_hours: float
    voting_hours: float
    min_deliberation_hours: float
    min_voting_hours: float
    max_postponement_hours: float
    officer_term_limit: int = Field(2, description="consecutive terms one member may serve in one office")
    charter_change_method: str = Field("two_thirds", description="how the members change this charter")


class CouncilIn(Schema):
    name: str = Field(..., max_length=120)
    kind: Literal["workplace", "neighbourhood", "agricultural", "other", "federation"]
    description: str = Field("", max_length=20_000)
    charter: CharterIn | None = None


class CouncilOut(Schema):
    slug: str
    name: str
    kind: str
    description: str
    created_at: datetime
    members: int
    charter: CharterOut
    federations: list[str]
    member_councils: list[str]


class MemberOut(Schema):
    username: str
    joined_at: datetime


class JoinOut(Schema):
    status: Literal["member", "vote_opened"]
    proposal_id: int | None = None


def council_out(council: Council) -> dict:
    charter = council.charter
    return {
        "slug": council.slug,
        "name": council.name,
        "kind": council.kind,
        "description": council.description,
        "created_at": council.created_at,
        "members": council.memberships.filter(left_at__isnull=True).count(),
        "charter": {
            "admission": charter.admission,
            "decision_method": charter.decision_method,
            "quorum": float(charter.quorum),
            "deliberation_hours": charter.deliberation_period.total_seconds() / 3600,
            "voting_hours": charter.voting_period.total_seconds() / 3600,
            "min_deliberation_hours": charter.min_deliberation_period.total_seconds() / 3600,
            "min_voting_hours": charter.min_voting_period.total_seconds() / 3600,
            "max_postponement_hours": charter.max_postponement.total_seconds() / 3600,
            "officer_term_limit": charter.officer_term_limit,
            "charter_change_method": charter.charter_change_method,
        },
        "federations": [],
        "member_councils": [],
        # What the apps above own of a council (federations: its affiliations), registered in assemblies.hooks.
        **hooks.api_facts(council),
    }


def _council(slug: str) -> Council:
    council = get_object_or_404(Council.objects.select_related("charter"), slug=slug)
    hooks.settle(council, clock.now())
    return council


@router.get("/councils", response=list[CouncilOut], summary="List councils")
def list_councils(request):
    return [council_out(c) for c in Council.objects.select_related("charter").order_by("name")]


@router.post("/councils", response={201: CouncilOut, **errors(401, 403, 409, 422)}, auth=member_auth, summary="Found a council")
def create_council(request, payload: CouncilIn):
    charter = {}
    if payload.charter:
        data = payload.charter.dict(exclude_none=True)
        for key in ("admission", "decision_method", "quorum"):
            if key in data:
                charter[key] = data[key]
        if "deliberation_hours" in data:
            charter["deliberation_period"] = timedelta(hours=data["deliberation_hours"])
        if "voting_hours" in data:
            charter["voting_period"] = timedelta(hours=data["voting_hours"])
        for key, name in (("min_deliberation_hours", "min_deliberation_period"), ("min_voting_hours", "min_voting_period"),
                          ("max_postponement_hours", "max_postponement")):
            if key in data:
                charter[name] = timedelta(hours=data[key])
    council = services.create_council(
        request.auth, name=payload.name, kind=payload.kind, description=payload.description, charter=charter
    )
    return Status(201, council_out(council))


@router.get("/councils/{slug}", response={200: CouncilOut, **errors(404)}, summary="A council and its charter")
def get_council(request, slug: str):
    return council_out(_council(slug))


@router.get("/councils/{slug}/members", response={200: list[MemberOut], **errors(404)}, summary="Current members")
def list_members(request, slug: str):
    council = _council(slug)
    return [
        {"username": m.member.username, "joined_at": m.joined_at}
        for m in council.memberships.filter(left_at__isnull=True).select_related("member")
    ]


@router.post("/councils/{slug}/join", response={201: JoinOut, 202: JoinOut, **errors(401, 403, 404, 409)}, auth=member_auth,
             summary="Join, or ask to join (an admission vote opens)")
def join(request, slug: str):
    result = services.join_council(request.auth, _council(slug))
    if isinstance(result, services.Membership):
        return Status(201, {"status": "member"})
    return Status(202, {"status": "vote_opened", "proposal_id": result.pk})


@router.post("/councils/{slug}/leave", response={200: MemberOut, **errors(401, 403, 404, 409)}, auth=member_auth,
             summary="Leave at once")
def leave(request, slug: str):
    membership = services.leave_council(request.auth, _council(slug))
    return {"username": membership.member.username, "joined_at": membership.joined_at}


class MeOut(Schema):
    username: str
    councils: list[str]


@router.get("/me", response={200: MeOut, **errors(401)}, auth=member_auth, summary="Who I am, my councils", tags=["me"])
def me(request):
    councils = Council.objects.filter(memberships__member=request.auth, memberships__left_at__isnull=True)
    return {"username": request.auth.username, "councils": [c.slug for c in councils]}


# ----- the council's public record ------------------------------------------------------------------


class EntryOut(Schema):
    chain: str
    seq: int
    at: str
    actor: str | None
    kind: str
    subject: str
    data: dict
    prev_hash: str
    hash: str


class VerifyOut(Schema):
    chain: str
    entries: int
    ok: bool
    problems: list[str]


@router.get("/councils/{slug}/record", response={200: list[EntryOut], **errors(404)},
            summary="The council's public record, oldest first", tags=["record"])
def list_entries(request, slug: str, after: int = Query(-1, ge=-1, description="only entries after this sequence number"),
                 limit: int = Query(500, ge=1, le=5000)):
    council = get_object_or_404(Council, slug=slug)
    return [row.as_entry().to_dict() for row in record.entries(council, after=after, limit=limit)]


class ContentOut(Schema):
    sha256: str
    subject: str
    hidden: bool
    nonce: str | None
    text: str | None


@router.get("/record/content/{sha256}", response={200: ContentOut, **errors(404)}, tags=["record"],
            summary="A text an entry references by hash: the text and its nonce (check: SHA-256 of "
                    "'councils-content:' + nonce + ':' + text), or only that moderation hides it")
def record_content(request, sha256: str):
    found = record.published_content(sha256)
    if found is None:
        raise NotFound(_("no such text"))
    return found


@router.get("/councils/{slug}/record/verify", response={200: VerifyOut, **errors(404)}, summary="Recompute the chain",
            tags=["record"])
def verify(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    report = record.verify_all([council])
    return {"chain": council.record_chain, "entries": report.entries, "ok": report.ok,
            "problems": [str(p) for p in report.problems]}
