"""The economy in the API: a federation's catalogue, councils' capabilities and needs, plan periods and their rounds.

Reading is open to anyone (the record is public); every act needs a member, and the
services in ``councils.economy.services`` decide who may do what: a council's own
members record its capabilities, hours and needs list; its elected planning delegate
chooses how it answers the rounds and types its hand proposal; a federation's
catalogue changes and plan periods are federation proposals made by a delegate and
decided by the member councils' mandates.

Votes are ordinary proposals: the needs list, each council's part of a plan, each
council's mandate on a catalogue change, a plan period or the plan's adoption are all
voted with ``PUT /api/proposals/{id}/ballot``. No route here lets a federation touch a
member council's capabilities, needs or proposal: those routes are under
``/councils/{slug}`` and answer only to that council's members.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime, Strict, StrictBool

# Numbers the members type are JSON numbers, nothing else: pydantic's lax mode reads ``true`` as 1 and "5" as 5.0, so a
# hand proposal of ``true`` units was taken for one unit. Strict types take ints and floats and refuse the rest (422).
Number = Annotated[float, Strict()]
WholeNumber = Annotated[int, Strict()]

from councils import clock
from councils.accounts.auth import member_auth, optional_auth
from councils.adapters.api import errors
from councils.assemblies.models import Council
from councils.decisions.api import ProposalOut, proposal_out
from councils.decisions.models import Proposal
from councils.decisions.services import settle_due
from councils.economy import services
from councils.economy.models import (
    Capability,
    DraftNeed,
    EconomyKind,
    HandProposal,
    PlanningMode,
    PlanPeriod,
    Product,
    WorkingHours,
)
from councils.errors import NotFound
from councils.federation.api import FederationProposalOut, federation_proposal_out

router = Router(tags=["economy"])


# ----- shapes ---------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    federation: str
    name: str
    unit: str
    description: str
    added_at: datetime
    added_by: int | None = Field(..., description="the federation's decision that added it")


class ProductIn(Schema):
    name: str = Field(..., max_length=100)
    unit: str = Field(..., max_length=30)
    description: str = Field("", max_length=2000)


class ProductChangeIn(Schema):
    product: WholeNumber = Field(..., description="the product's id")
    unit: str | None = Field(None, max_length=30, description="default: unchanged")
    description: str | None = Field(None, max_length=2000, description="default: unchanged")


class CatalogueChangeIn(Schema):
    title: str = Field("", max_length=200, description="default: a summary of the change")
    body: str = Field("", max_length=100_000)
    add: list[ProductIn] = Field(default_factory=list, max_length=500)
    retire: list[WholeNumber] = Field(default_factory=list, max_length=500, description="ids of products to retire")
    change: list[ProductChangeIn] = Field(default_factory=list, max_length=500, description="new units or descriptions")
    mandates_due: AwareDatetime | None = Field(None, description="default: now + the federation's mandate period")
    voting_ends: AwareDatetime | None = Field(None, description="default: mandates due + the federation's voting period")


class MandateOut(Schema):
    council: str
    proposal: int = Field(..., description="the council's mandate vote: members vote on it with PUT /api/proposals/{id}/ballot")
    deliberation_ends: datetime
    voting_ends: datetime


class EconomyProposalOut(FederationProposalOut):
    url: str
    payload: Any = Field(..., description="what is proposed: the catalogue change or the plan period's terms")
    mandates: list[MandateOut]


class CapabilityOut(Schema):
    id: int
    council: str
    product: int
    name: str
    unit: str
    labour: float = Field(..., description="labour hours per unit")
    capacity: float = Field(..., description="units per period")
    inputs: dict[str, float] = Field(..., description="units of each input (by product id) per unit made")
    recorded_at: datetime
    recorded_by: str


class CapabilitiesOut(Schema):
    council: str
    hours: float | None = Field(..., description="the working hours the members offer per period; null: not recorded")
    capabilities: list[CapabilityOut]


class CapabilityIn(Schema):
    labour: Number = Field(..., description="labour hours per unit (finite, not negative)")
    capacity: Number = Field(..., description="units per period (finite, not negative)")
    inputs: dict[str, Number] = Field(default_factory=dict, max_length=500,
                                     description="input product (id or name) -> units used per unit made")


class WorkingHoursIn(Schema):
    hours: Number = Field(..., description="hours the members offer to work in a period (finite, not negative)")


class WorkingHoursOut(Schema):
    council: str
    hours: float
    recorded_at: datetime
    recorded_by: str


class ImportIn(Schema):
    format: Literal["csv", "economy"] = Field(..., description="csv: product,labour,capacity[,inputs]; economy: the engine's JSON economy file")
    content: str = Field(..., max_length=2_000_000, description="the file's text")


class DraftNeedOut(Schema):
    council: str
    product: int
    name: str
    unit: str
    quantity: float
    priority: float
    updated_at: datetime
    updated_by: str


class DraftNeedIn(Schema):
    quantity: Number = Field(..., description="units needed in a period (finite, positive)")
    priority: Number = Field(1.0, description="weight of the need (finite, positive)")


class NeedOut(Schema):
    id: int
    council: str
    product: int
    name: str
    unit: str
    quantity: float
    priority: float
    adopted_by: int = Field(..., description="the council's decision")
    adopted_at: datetime


class NeedsProposalIn(Schema):
    title: str = Field("", max_length=200, description="default: the products listed")
    body: str = Field("", max_length=100_000)
    deliberation_ends: AwareDatetime | None = Field(None, description="voting opens; default: the charter's")
    voting_ends: AwareDatetime | None = Field(None, description="default: the charter's")


class NeedsProposalOut(ProposalOut):
    url: str
    payload: list[dict[str, Any]] = Field(..., description="the needs list as put to the vote")


class PlanPeriodIn(Schema):
    title: str = Field(..., max_length=200)
    aim: Literal["weighted", "maxmin"] = Field("weighted", description="weighted: priority-weighted fulfilment; maxmin: the worst-served need first")
    max_rounds: WholeNumber = Field(10, description="the most rounds before the plan is put to the councils (1 to 100)")
    round_length_hours: Number = Field(24, description="time councils planning by hand have to revise after each round")
    body: str = Field("", max_length=100_000)
    mandates_due: AwareDatetime | None = None
    voting_ends: AwareDatetime | None = None


class PeriodProgressOut(Schema):
    status: str
    attempt: int
    round: int
    max_rounds: int
    round_ends: datetime | None = Field(..., description="the revision window's deadline; null while the worker computes")
    computing: bool
    iterations: int
    shortage_share: float | None
    certified_gap: float | None = Field(None, description="the best plan so far is at most this share below the best "
                                        "possible plan (the certificate); null until a round has repaired one")
    waiting_for: list[int] = Field(..., description="ids of councils planning by hand that have not revised this round")


class RoundProductOut(Schema):
    id: int
    name: str
    unit: str
    price: float = Field(..., description="indicative price")
    excess: float = Field(..., description="above 0: shortage; below 0: surplus")


class RoundRowOut(Schema):
    capability: int | None = None
    need: int | None = None
    product: int
    units: float
    capacity: float | None = None
    quantity: float | None = None


class RoundCouncilOut(Schema):
    council: int
    by_hand: bool
    rows: list[RoundRowOut]


class RoundOut(Schema):
    attempt: int
    number: int
    iterations: int
    balanced: bool
    finished_at: datetime
    iteration: int
    hour_value: float
    report: dict[str, Any]
    products: list[RoundProductOut]
    councils: list[RoundCouncilOut] = Field(..., description="each council's current proposal")


class PartRowOut(Schema):
    product: int
    name: str
    unit: str
    units: float
    hours: float | None = None
    quantity: float | None = None


class PartOut(Schema):
    council: str
    council_id: int
    attempt: int
    status: Literal["voting", "accepted", "rejected"]
    objection: str
    vote: int = Field(..., description="the council's vote on its part: members vote with PUT /api/proposals/{id}/ballot")
    rows: list[PartRowOut]


class ParticipantOut(Schema):
    id: int
    slug: str
    name: str
    kind: str
    by_hand: bool = Field(..., description="revises by hand through its planning delegate (else its rule answers)")


class PlanProductOut(Schema):
    id: int
    name: str
    unit: str
    labour_value: float
    price: float
    made: float
    used_as_input: float
    delivered: float


class PlanWorkplaceOut(Schema):
    council: int
    capability: int
    product: int
    units: float
    capacity: float
    hours: float


class PlanNeedOut(Schema):
    council: int
    need: int
    product: int
    quantity: float
    units: float
    fulfilment: float
    priority: float


class PlanOut(Schema):
    aim: str
    converged: bool
    iterations: int
    rounds: int
    objective: float
    optimum_objective: float | None
    gap: float | None = Field(..., description="share below the HiGHS optimum")
    hour_value: float
    labour_used: float
    labour_budget: float
    worst_fulfilment: float
    weighted_fulfilment: float
    products: list[PlanProductOut]
    workplaces: list[PlanWorkplaceOut]
    needs: list[PlanNeedOut]
    convergence: list[list[float]] = Field(..., description="[iteration, shortage share]")
    bound: float | None = Field(None, description="the certificate: no plan can reach more than this on the aim")
    certified_gap: float | None = Field(None, description="the plan is at most this share below the best possible "
                                        "plan, computed from the published prices without HiGHS")
    tol: float | None = Field(None, description="the certified gap 'converged' promises; above it the plan is "
                              "'not converged'")
    certified_convergence: list[list[float]] = Field([], description="[iteration, certified gap]")


class PlanPeriodSummaryOut(Schema):
    id: int
    url: str
    federation: str
    title: str
    aim: str
    max_rounds: int
    round_length_hours: float
    status: Literal["failed", "rounds", "acceptance", "adoption", "adopted", "not_adopted"]
    status_reason: str
    attempt: int
    round: int
    round_ends: datetime | None
    opened_at: datetime
    opened_by: int = Field(..., description="the federation's decision that opened it")
    opening_proposal: int
    adopted_at: datetime | None
    economy_sha256: str


class PlanPeriodOut(PlanPeriodSummaryOut):
    progress: PeriodProgressOut
    councils: list[ParticipantOut]
    latest_round: RoundOut | None
    parts: list[PartOut] = Field(..., description="every council's part, of every attempt")
    adoption: int | None = Field(..., description="the federation's vote adopting the whole plan")
    adoption_mandates: list[MandateOut]
    result: PlanOut | None = Field(..., description="the plan the procedure reached, once it has")


class PlanningModeIn(Schema):
    by_hand: StrictBool


class PlanningModeOut(Schema):
    period: int
    council: str
    by_hand: bool
    set_at: datetime
    set_by: str | None


class HandProposalIn(Schema):
    quantities: dict[str, Number] = Field(..., max_length=10_000,
                                         description="capability id (a workplace) or need id (a neighbourhood) -> units")


class HandProposalOut(Schema):
    period: int
    council: str
    attempt: int
    round: int
    content: dict[str, float]
    submitted_at: datetime
    submitted_by: str


# ----- lookups and shapes ---------------------------------------------------------------------


def _federation(slug: str) -> Council:
    federation = get_object_or_404(Council, slug=slug)
    if not federation.is_federation:
        raise NotFound(_("%(name)s is not a federation") % {"name": federation.name})
    return federation


def _council(slug: str) -> Council:
    return get_object_or_404(Council, slug=slug)


def _period(period_id: int, federation: Council | None = None) -> PlanPeriod:
    if federation is not None:
        return services.get_period(federation, period_id)
    period = PlanPeriod.objects.filter(pk=period_id).select_related("federation").first()
    if period is None:
        raise NotFound(_("no such plan period"))
    return period


def _mandates(proposal: Proposal) -> list[dict]:
    return [{"council": m.council.slug, "proposal": m.pk, "deliberation_ends": m.deliberation_ends,
             "voting_ends": m.voting_ends} for m in proposal.mandates.select_related("council").order_by("council__slug")]


def economy_proposal_out(proposal: Proposal) -> dict:
    proposal = Proposal.objects.select_related("council", "author").get(pk=proposal.pk)
    return {**federation_proposal_out(proposal, clock.now()), "url": f"/api/proposals/{proposal.pk}",
            "payload": proposal.payload, "mandates": _mandates(proposal)}


def product_out(product: Product) -> dict:
    return {"id": product.pk, "federation": product.federation.slug, "name": product.name, "unit": product.unit,
            "description": product.description, "added_at": product.added_at, "added_by": product.added_by_id}


def capability_out(capability: Capability) -> dict:
    return {"id": capability.pk, "council": capability.council.slug, "product": capability.product_id,
            "name": capability.product.name, "unit": capability.product.unit, "labour": capability.labour,
            "capacity": capability.capacity, "inputs": {str(k): v for k, v in sorted(capability.inputs.items())},
            "recorded_at": capability.recorded_at, "recorded_by": capability.recorded_by.username}


def _capabilities(council: Council) -> list[dict]:
    rows = Capability.objects.filter(council=council).select_related("council", "product", "recorded_by")
    return [capability_out(c) for c in rows]


def draft_need_out(line: DraftNeed) -> dict:
    return {"council": line.council.slug, "product": line.product_id, "name": line.product.name, "unit": line.product.unit,
            "quantity": line.quantity, "priority": line.priority, "updated_at": line.updated_at,
            "updated_by": line.updated_by.username}


def round_out(planning_round) -> dict:
    summary = planning_round.summary
    return {"attempt": planning_round.attempt, "number": planning_round.number, "iterations": planning_round.iterations,
            "balanced": planning_round.balanced, "finished_at": planning_round.finished_at,
            "iteration": summary.get("iteration", 0), "hour_value": summary.get("hour_value", 0.0),
            "report": summary.get("report", {}), "products": summary.get("products", []),
            "councils": summary.get("councils", [])}


def period_summary_out(period: PlanPeriod) -> dict:
    slug = period.federation.slug
    return {
        "id": period.pk, "url": f"/api/federations/{slug}/plan-periods/{period.pk}", "federation": slug,
        "title": period.title, "aim": period.aim, "max_rounds": period.max_rounds,
        "round_length_hours": period.round_length.total_seconds() / 3600, "status": period.status,
        "status_reason": period.status_reason, "attempt": period.attempt, "round": period.round,
        "round_ends": period.round_ends, "opened_at": period.opened_at, "opened_by": period.opened_by_id,
        "opening_proposal": period.opened_by.proposal_id, "adopted_at": period.adopted_at,
        "economy_sha256": period.economy_sha256,
    }


def period_out(period: PlanPeriod) -> dict:
    ids = services.participants(period)
    councils = {c.pk: c for c in Council.objects.filter(pk__in=ids)}
    by_hand = dict(PlanningMode.objects.filter(period=period).values_list("council_id", "by_hand"))
    latest = period.rounds.order_by("-attempt", "-number").first()
    adoption = period.votes.filter(kind=EconomyKind.PLAN_ADOPTION).order_by("-pk").first()
    parts = period.parts.select_related("council").order_by("attempt", "council__name", "pk")
    return {
        **period_summary_out(period),
        "progress": services.progress(period),
        "councils": [{"id": c, "slug": councils[c].slug, "name": councils[c].name, "kind": councils[c].kind,
                      "by_hand": by_hand.get(c, False)} for c in ids if c in councils],
        "latest_round": round_out(latest) if latest else None,
        "parts": [{"council": p.council.slug, "council_id": p.council_id, "attempt": p.attempt, "status": p.status,
                   "objection": p.objection, "vote": p.vote_id, "rows": p.content} for p in parts],
        "adoption": adoption.pk if adoption else None,
        "adoption_mandates": _mandates(adoption) if adoption else [],
        "result": period.result,
    }


# ----- catalogue --------------------------------------------------------------------------------


@router.get("/federations/{slug}/catalogue", response={200: list[ProductOut], **errors(404)}, auth=optional_auth,
            summary="A federation's catalogue of products")
def get_catalogue(request, slug: str):
    federation = _federation(slug)
    settle_due(federation, clock.now())
    return [product_out(p) for p in services.catalogue(federation).select_related("federation")]


@router.post("/federations/{slug}/catalogue/proposals", response={201: EconomyProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Propose a change of the catalogue (delegates): the member councils decide by mandate")
def propose_catalogue_change(request, slug: str, payload: CatalogueChangeIn):
    federation = _federation(slug)
    proposal = services.propose_catalogue_change(
        request.auth, federation, title=payload.title, body=payload.body,
        add=[item.dict() for item in payload.add], retire=list(payload.retire),
        change=[item.dict(exclude_none=True) for item in payload.change],
        mandates_due=payload.mandates_due, voting_ends=payload.voting_ends,
    )
    return Status(201, economy_proposal_out(proposal))


@router.get("/councils/{slug}/products", response={200: list[ProductOut], **errors(404)}, auth=optional_auth,
            summary="The products a council may record: those of its federations' catalogues")
def council_products(request, slug: str):
    return [product_out(p) for p in services.products_for(_council(slug)).select_related("federation")]


# ----- capabilities and hours -------------------------------------------------------------------


@router.get("/councils/{slug}/capabilities", response={200: CapabilitiesOut, **errors(404)}, auth=optional_auth,
            summary="What a workplace council can make, and the hours its members offer")
def get_capabilities(request, slug: str):
    council = _council(slug)
    hours = WorkingHours.objects.filter(council=council).first()
    return {"council": council.slug, "hours": hours.hours if hours else None, "capabilities": _capabilities(council)}


# before the routes by product id, which would take "import" for one
@router.post("/councils/{slug}/capabilities/import", response={200: list[CapabilityOut], **errors(401, 403, 404, 409, 422)},
             auth=member_auth,
             summary="Import capabilities from a CSV or economy file, all or nothing; errors name the row and column")
def import_capabilities(request, slug: str, payload: ImportIn):
    recorded = services.import_capabilities(request.auth, _council(slug), payload.content, fmt=payload.format)
    rows = Capability.objects.filter(pk__in=[c.pk for c in recorded]).select_related("council", "product", "recorded_by")
    return [capability_out(c) for c in rows]


@router.put("/councils/{slug}/capabilities/{product_id}", response={200: CapabilityOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Record or correct what the council can make of a product (its members)")
def put_capability(request, slug: str, product_id: int, payload: CapabilityIn):
    capability = services.record_capability(request.auth, _council(slug), product=product_id, labour=payload.labour,
                                            capacity=payload.capacity, inputs=dict(payload.inputs))
    return capability_out(Capability.objects.select_related("council", "product", "recorded_by").get(pk=capability.pk))


@router.delete("/councils/{slug}/capabilities/{product_id}", response={204: None, **errors(401, 403, 404, 409)},
               auth=member_auth, summary="Remove a capability (its members)")
def delete_capability(request, slug: str, product_id: int):
    council = _council(slug)
    capability = Capability.objects.filter(council=council, product_id=product_id).select_related("council").first()
    if capability is None:
        raise NotFound(_("%(name)s records no capability for product %(product_id)s") % {"name": council.name, "product_id": product_id})
    services.remove_capability(request.auth, capability)
    return Status(204, None)


@router.put("/councils/{slug}/working-hours", response={200: WorkingHoursOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Record the hours the members offer to work in a period (its members)")
def put_working_hours(request, slug: str, payload: WorkingHoursIn):
    row = services.record_working_hours(request.auth, _council(slug), payload.hours)
    return {"council": row.council.slug, "hours": row.hours, "recorded_at": row.recorded_at,
            "recorded_by": row.recorded_by.username}


# ----- needs ------------------------------------------------------------------------------------


@router.get("/councils/{slug}/needs", response={200: list[NeedOut], **errors(404)}, auth=optional_auth,
            summary="A neighbourhood council's needs in force, as its members adopted them")
def get_needs(request, slug: str):
    council = _council(slug)
    settle_due(council, clock.now())
    return [{"id": n.pk, "council": council.slug, "product": n.product_id, "name": n.product.name, "unit": n.product.unit,
             "quantity": n.quantity, "priority": n.priority, "adopted_by": n.adopted_by_id, "adopted_at": n.adopted_at}
            for n in services.current_needs(council)]


@router.get("/councils/{slug}/needs/draft", response={200: list[DraftNeedOut], **errors(404)}, auth=optional_auth,
            summary="The needs list the members are editing, before they adopt it by vote")
def get_draft_needs(request, slug: str):
    council = _council(slug)
    return [draft_need_out(line) for line in DraftNeed.objects.filter(council=council).select_related("council", "product", "updated_by")]


@router.put("/councils/{slug}/needs/draft/{product_id}", response={200: DraftNeedOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Set a line of the needs list (its members)")
def put_draft_need(request, slug: str, product_id: int, payload: DraftNeedIn):
    line = services.set_draft_need(request.auth, _council(slug), product=product_id, quantity=payload.quantity,
                                   priority=payload.priority)
    return draft_need_out(DraftNeed.objects.select_related("council", "product", "updated_by").get(pk=line.pk))


@router.delete("/councils/{slug}/needs/draft/{product_id}", response={204: None, **errors(401, 403, 404, 409, 422)},
               auth=member_auth, summary="Take a line off the needs list (its members)")
def delete_draft_need(request, slug: str, product_id: int):
    services.remove_draft_need(request.auth, _council(slug), product_id)
    return Status(204, None)


@router.post("/councils/{slug}/needs/proposals", response={201: NeedsProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Put the needs list as it stands to the members' vote (its members)")
def propose_needs(request, slug: str, payload: NeedsProposalIn):
    proposal = services.propose_needs(request.auth, _council(slug), title=payload.title, body=payload.body,
                                      deliberation_ends=payload.deliberation_ends, voting_ends=payload.voting_ends)
    proposal = Proposal.objects.select_related("council", "author", "subject_member", "federation").get(pk=proposal.pk)
    return Status(201, {**proposal_out(proposal), "url": f"/api/proposals/{proposal.pk}", "payload": proposal.payload})


# ----- plan periods -----------------------------------------------------------------------------


@router.get("/federations/{slug}/plan-periods", response={200: list[PlanPeriodSummaryOut], **errors(404)},
            auth=optional_auth, summary="A federation's plan periods, newest first")
def list_plan_periods(request, slug: str):
    federation = _federation(slug)
    settle_due(federation, clock.now())
    periods = list(PlanPeriod.objects.filter(federation=federation).select_related("federation", "opened_by")[:200])
    for period in periods:
        if period.status in services.ACTIVE_STATUSES:
            services.settle_period(period)
    return [period_summary_out(p) for p in periods]


@router.post("/federations/{slug}/plan-periods", response={201: EconomyProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Propose to open a plan period (delegates): it opens when the member councils' mandates adopt it")
def propose_plan_period(request, slug: str, payload: PlanPeriodIn):
    proposal = services.propose_plan_period(
        request.auth, _federation(slug), title=payload.title, aim=payload.aim, max_rounds=payload.max_rounds,
        round_length_hours=payload.round_length_hours, body=payload.body, mandates_due=payload.mandates_due,
        voting_ends=payload.voting_ends,
    )
    return Status(201, economy_proposal_out(proposal))


@router.get("/federations/{slug}/plan-periods/{period_id}", response={200: PlanPeriodOut, **errors(404)}, auth=optional_auth,
            summary="A plan period: progress, latest round, each council's part and vote, the adoption vote, the plan")
def get_plan_period(request, slug: str, period_id: int):
    period = services.settle_period(_period(period_id, _federation(slug)))
    return period_out(period)


@router.get("/federations/{slug}/plan-periods/{period_id}/rounds", response={200: list[RoundOut], **errors(404)},
            auth=optional_auth, summary="Every published round: indicative prices, shortages and surpluses, each council's proposal")
def list_rounds(request, slug: str, period_id: int):
    period = _period(period_id, _federation(slug))
    return [round_out(r) for r in period.rounds.order_by("attempt", "number")]


@router.get("/federations/{slug}/plan-periods/{period_id}/economy.json", response={200: dict[str, Any], **errors(404)},
            auth=optional_auth, summary="Download the period's economy file, to recompute the plan with `councils plan`")
def download_economy(request, slug: str, period_id: int):
    period = _period(period_id, _federation(slug))
    if not period.economy_json or period.economy_json == "{}":
        raise NotFound(_("this plan period could not start: it has no economy file"))
    response = HttpResponse(period.economy_json, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="plan-period-{period.pk}-economy.json"'
    return response


@router.put("/councils/{slug}/plan-periods/{period_id}/mode", response={200: PlanningModeOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Choose how the council answers the rounds: by its rule, or by hand (its planning delegate)")
def put_planning_mode(request, slug: str, period_id: int, payload: PlanningModeIn):
    council, period = _council(slug), _period(period_id)
    mode = services.set_planning_mode(request.auth, period, council, by_hand=payload.by_hand)
    return {"period": period.pk, "council": council.slug, "by_hand": mode.by_hand, "set_at": mode.set_at,
            "set_by": mode.set_by.username if mode.set_by_id else None}


@router.put("/councils/{slug}/plan-periods/{period_id}/hand-proposal", response={200: HandProposalOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Revise the council's proposal for the current round (its planning delegate)")
def put_hand_proposal(request, slug: str, period_id: int, payload: HandProposalIn):
    council, period = _council(slug), _period(period_id)
    proposal: HandProposal = services.submit_hand_proposal(request.auth, period, council, dict(payload.quantities))
    return {"period": period.pk, "council": council.slug, "attempt": proposal.attempt, "round": proposal.round,
            "content": proposal.content, "submitted_at": proposal.submitted_at,
            "submitted_by": proposal.submitted_by.username}
