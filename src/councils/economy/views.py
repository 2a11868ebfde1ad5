"""The economy's pages: a federation's catalogue and plan periods, a council's capabilities or needs, a plan period.

Adapters only: every act goes through ``economy.services``. A refusal becomes an
error on the form it came from (wrong input) or a message (not allowed, too late).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from councils import clock
from councils.assemblies.models import Council, Office, OfficeRole
from councils.assemblies.permissions import membership_of, require_member
from councils.decisions.models import Proposal, ProposalState
from councils.decisions.services import settle_due
from councils.economy import services
from councils.economy.forms import (
    CapabilityForm, CapabilityImportForm, CatalogueChangeForm, HandProposalForm, NeedForm, PlanPeriodForm,
    WorkingHoursForm, format_inputs,
)
from councils.economy.imports import MAX_BYTES
from councils.economy.models import (
    Capability, HandProposal, PartStatus, PeriodStatus, PlanningMode, PlanPeriod, Product, WorkingHours,
)
from councils.errors import CouncilsError, Invalid, NotFound
from councils.federation.services import charter_of, delegations_of, require_delegate
from councils.adapters import charts
from councils.economy.models import EconomyKind
from django.utils.translation import gettext

# An excess smaller than this (in the product's units) is shown as balanced.
BALANCED = 1e-6


# ----- helpers ------------------------------------------------------------------------------------


def _council(slug: str) -> Council:
    return get_object_or_404(Council.objects.select_related("charter"), slug=slug)


def _federation(slug: str) -> Council:
    federation = _council(slug)
    if not federation.is_federation:
        raise Http404(gettext("not a federation"))
    return federation


def _period(slug: str, pk: int) -> PlanPeriod:
    try:
        return services.get_period(_federation(slug), pk)
    except NotFound:
        raise Http404(gettext("no such plan period")) from None


def economy_url(slug: str, anchor: str = "") -> str:
    return reverse("economy", args=[slug]) + anchor


def period_url(slug: str, pk: int, anchor: str = "") -> str:
    return reverse("plan_period", args=[slug, pk]) + anchor


def _acts_back(to):
    """For POST views that call one service: a refusal becomes a message on the page the act belongs to."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except CouncilsError as exc:
                messages.error(request, exc.message)
                return redirect(to(**kwargs))

        return wrapper

    return decorate


def _back_to_economy(slug, **_):
    return economy_url(slug)


def _back_to_period(slug, pk, **_):
    return period_url(slug, pk)


def _on_form(request, form, exc: CouncilsError, *, locate: bool = False) -> bool:
    """Put a domain error where it is read: on the form (True: show the page again) or as a message (False).

    Wrong input goes on the form, on its field when the service names one the
    form has; a refusal (not allowed, closed, conflict) is a message. ``locate``
    keeps the service's own place in the text ("row 3, column capacity: ...").
    """
    if not isinstance(exc, Invalid) or exc.field in ("council", "federation"):
        messages.error(request, exc.message)
        return False
    field = form.field_for(exc.field) if hasattr(form, "field_for") else None
    if field is None and exc.field in form.fields:
        field = exc.field
    text = f"{exc.field}: {exc.message}" if locate and field is None and exc.field else exc.message
    form.add_error(field, text)
    return True


def _states(proposals, now) -> list[dict]:
    return [{"proposal": p, "state": ProposalState(p.state(now)).label, "open": p.state(now) in (
        ProposalState.DELIBERATION, ProposalState.VOTING)} for p in proposals]


def num(value) -> str:
    """A quantity for reading: whole numbers without decimals, others to four places at most, thousands separated,
    with the separators of the reader's language ("1,234.5" in English is "1.234,5" in German)."""
    return _localised(_num(value))


def _num(value) -> str:
    value = float(value)
    if abs(value) < 5e-7:
        return "0"  # never "-0" nor "1e-12": the engine's rounding noise is nothing to a reader
    if abs(value - round(value)) < 5e-7:
        return f"{round(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}".replace(".0", "") if f"{value:,.1f}".endswith(".0") else f"{value:,.1f}"
    # Small quantities keep what a person can tell apart (0.0125 hours of labour a loaf), no more.
    return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")


def _plural_count(value: float) -> int:
    return int(value) if float(value).is_integer() else 2


def _localised(text: str) -> str:
    """A number written the English way, with the active language's decimal and thousands separators."""
    from django.utils.formats import get_format

    return text.translate(str.maketrans({",": "\0", ".": str(get_format("DECIMAL_SEPARATOR"))})).replace(
        "\0", str(get_format("THOUSAND_SEPARATOR")))


def plain(value) -> str:
    """A number as a form field shows it: no trailing ``.0``, no thousands separator."""
    return f"{float(value):.12g}"


def _share(value: float) -> str:
    from councils.adapters.words import percent

    return percent(value, 1)


def _offices(council: Council, role: str, now):
    return Office.objects.filter(council=council, role=role, starts_at__lte=now, ends_at__gt=now,
                                 ended_at__isnull=True).select_related("holder", "elected_by__proposal")


# ----- the economy page: a federation's or a council's ----------------------------------------------


@require_GET
def economy(request, slug: str):
    return _economy_page(request, _council(slug))


def _economy_page(request, council: Council, bound: dict | None = None):
    now = clock.now()
    settle_due(council, now)
    bound = bound or {}
    if council.is_federation:
        return render(request, "economy/federation_economy.html", _federation_context(request, council, now, bound))
    return render(request, "economy/council_economy.html", _council_context(request, council, now, bound))


def _federation_context(request, federation: Council, now, bound: dict) -> dict:
    user = request.user
    catalogue = services.catalogue(federation).order_by("name", "pk")
    is_delegate = user.is_authenticated and delegations_of(user, now).filter(federation=federation).exists()
    periods = [{"period": p, "rounds": p.rounds.filter(attempt=p.attempt).count()}
               for p in PlanPeriod.objects.filter(federation=federation)]
    proposals = Proposal.objects.filter(
        council=federation, kind__in=(EconomyKind.CATALOGUE, EconomyKind.PLAN_PERIOD), published_at__isnull=False,
    ).select_related("decision").order_by("-created_at")[:30]
    return {
        "council": federation, "federation": federation, "catalogue": catalogue, "is_delegate": is_delegate,
        "plans_production": services.PLANNING_MATTER in charter_of(federation).competences,
        "planning_matter": services.PLANNING_MATTER, "periods": periods,
        "in_progress": any(p["period"].status in services.ACTIVE_STATUSES for p in periods),
        "proposals": _states(proposals, now),
        "catalogue_form": bound.get("catalogue") or CatalogueChangeForm(catalogue=catalogue, prefix="catalogue"),
        "period_form": bound.get("period") or PlanPeriodForm(prefix="period"),
        "now": now,
    }


def _council_context(request, council: Council, now, bound: dict) -> dict:
    member = membership_of(request.user, council) is not None
    producing = council.kind in services.PRODUCING_KINDS
    needing = council.kind in services.NEEDING_KINDS
    products = services.products_for(council).select_related("federation").order_by("name", "pk")
    federations = services.federations_above(council)
    periods = PlanPeriod.objects.filter(federation__in=[f.pk for f in federations]).select_related("federation")[:20]
    context = {
        "council": council, "is_member": member, "producing": producing, "needing": needing,
        "products": products, "federations": federations, "periods": periods, "now": now,
        "planning_delegates": services.planning_delegates(council, now).select_related("holder", "elected_by__proposal"),
        "coordinators": _offices(council, OfficeRole.COORDINATOR, now) if producing else [],
        "election_url": reverse("proposal-create", args=[council.slug]) + "?kind=election",
    }
    if producing:
        context.update(_capability_context(council, products, bound))
    if needing:
        context.update(_needs_context(council, products, bound, now))
    return context


def _capability_context(council: Council, products, bound: dict) -> dict:
    capabilities = {c.product_id: c for c in council.capabilities.select_related("product")}
    input_ids = {pk for c in capabilities.values() for pk in c.inputs}
    names = dict(Product.objects.filter(pk__in=input_ids).values_list("pk", "name"))
    rows = []
    for product in products:
        capability = capabilities.pop(product.pk, None)
        form_id = f"cap-{product.pk}"
        initial = ({"labour": plain(capability.labour), "capacity": plain(capability.capacity),
                    "inputs": format_inputs(capability.inputs, names)} if capability else None)
        rows.append({"product": product, "capability": capability, "form_id": form_id,
                     "inputs": format_inputs(capability.inputs, names) if capability else "",
                     "labour": num(capability.labour) if capability else "", "capacity": num(capability.capacity) if capability else "",
                     "form": bound.get(form_id) or CapabilityForm(prefix=form_id, product=product, form_id=form_id,
                                                                  initial=initial)})
    hours = WorkingHours.objects.filter(council=council).first()
    return {
        "capability_rows": rows,
        # capabilities of products no longer in any catalogue: shown so that they can be removed
        "stale_capabilities": [{"capability": c, "inputs": format_inputs(c.inputs, names), "labour": num(c.labour),
                                "capacity": num(c.capacity)} for c in capabilities.values()],
        "hours": hours, "hours_text": num(hours.hours) if hours else "",
        "hours_form": bound.get("hours") or WorkingHoursForm(prefix="hours", initial={"hours": plain(hours.hours)} if hours else None),
        "import_form": bound.get("import") or CapabilityImportForm(prefix="import"),
        "max_import_mb": MAX_BYTES / 1e6,
    }


def _needs_context(council: Council, products, bound: dict, now) -> dict:
    lines = list(council.draft_needs.select_related("product"))
    rows = []
    for line in lines:
        form_id = f"need-{line.product_id}"
        rows.append({"line": line, "form_id": form_id, "quantity": num(line.quantity), "priority": num(line.priority), "form": bound.get(form_id) or NeedForm(
            prefix=form_id, line=line, form_id=form_id, initial={"quantity": plain(line.quantity), "priority": plain(line.priority)})})
    votes = Proposal.objects.filter(council=council, kind=EconomyKind.NEEDS, published_at__isnull=False).select_related(
        "decision").order_by("-created_at")[:10]
    return {
        "need_rows": rows,
        "need_form": bound.get("need") or NeedForm(prefix="need", products=products.exclude(
            pk__in=[line.product_id for line in lines])),
        "needs": [{"need": n, "quantity": num(n.quantity), "priority": num(n.priority)}
                  for n in services.current_needs(council).select_related("adopted_by__proposal")],
        "needs_votes": _states(votes, now),
    }


# ----- acts on the economy page ------------------------------------------------------------------


def _form_act(request, council: Council, key: str, form, act, success: str, *, anchor: str = "",
              follow: bool = False, locate: bool = False):
    """Validate ``form``, call ``act(form)``; on success go back (or to the object it returns), on wrong input show
    the page again with the errors on the form, on a refusal go back with a message."""
    if form.is_valid():
        try:
            result = act(form)
        except CouncilsError as exc:
            if not _on_form(request, form, exc, locate=locate):
                return redirect(economy_url(council.slug, anchor))
        else:
            messages.success(request, success)
            return redirect(result if follow else economy_url(council.slug, anchor))
    messages.error(request, gettext("Nothing was saved: see the form's errors below."))
    return _economy_page(request, council, {key: form})


@login_required
@require_POST
@_acts_back(_back_to_economy)
def propose_catalogue_change(request, slug: str):
    federation = _federation(slug)
    require_delegate(request.user, federation, gettext("propose changes of its catalogue"))
    form = CatalogueChangeForm(request.POST, catalogue=services.catalogue(federation), prefix="catalogue")
    return _form_act(
        request, federation, "catalogue", form,
        lambda f: services.propose_catalogue_change(request.user, federation, title=f.cleaned_data["title"],
                                                    body=f.cleaned_data["body"], **f.change()),
        gettext("The change of the catalogue is sent down to every member council for its mandate."), follow=True)


@login_required
@require_POST
@_acts_back(_back_to_economy)
def propose_plan_period(request, slug: str):
    federation = _federation(slug)
    require_delegate(request.user, federation, gettext("propose plan periods"))
    form = PlanPeriodForm(request.POST, prefix="period")
    return _form_act(
        request, federation, "period", form,
        lambda f: services.propose_plan_period(request.user, federation, **f.cleaned_data),
        gettext("The plan period is proposed: every member council votes its mandate."), follow=True)


def _posted_product(request, products) -> Product:
    try:
        return products.get(pk=int(request.POST.get("product", "")))
    except (ValueError, Product.DoesNotExist):
        raise Invalid(gettext("choose a product of the catalogue"), field="product") from None


@login_required
@require_POST
@_acts_back(_back_to_economy)
def record_capability(request, slug: str):
    council = _council(slug)
    require_member(request.user, council, gettext("record its capabilities"))
    product = _posted_product(request, services.products_for(council))
    form_id = f"cap-{product.pk}"
    form = CapabilityForm(request.POST, prefix=form_id, product=product, form_id=form_id)
    return _form_act(
        request, council, form_id, form,
        lambda f: services.record_capability(request.user, council, product=product, labour=f.cleaned_data["labour"],
                                             capacity=f.cleaned_data["capacity"], inputs=f.cleaned_data["inputs"]),
        gettext("Our capability for %(name)s is recorded.") % {"name": product.name}, anchor="#capabilities-h")


@login_required
@require_POST
@_acts_back(_back_to_economy)
def remove_capability(request, slug: str, pk: int):
    council = _council(slug)
    capability = get_object_or_404(Capability.objects.select_related("product"), pk=pk, council=council)
    services.remove_capability(request.user, capability)
    messages.success(request, gettext("Our capability for %(name)s is removed.") % {"name": capability.product.name})
    return redirect(economy_url(slug, "#capabilities-h"))


@login_required
@require_POST
@_acts_back(_back_to_economy)
def record_working_hours(request, slug: str):
    council = _council(slug)
    require_member(request.user, council, gettext("record its members' hours"))
    form = WorkingHoursForm(request.POST, prefix="hours")
    return _form_act(request, council, "hours", form,
                     lambda f: services.record_working_hours(request.user, council, f.cleaned_data["hours"]),
                     gettext("Our working hours are recorded."), anchor="#hours-h")


@login_required
@require_POST
@_acts_back(_back_to_economy)
def import_capabilities(request, slug: str):
    council = _council(slug)
    require_member(request.user, council, gettext("record its capabilities"))
    form = CapabilityImportForm(request.POST, request.FILES, prefix="import")

    def act(f):
        upload = f.cleaned_data["file"]
        recorded = services.import_capabilities(request.user, council, upload.read(MAX_BYTES + 1), fmt=f.cleaned_data["fmt"])
        return len(recorded)

    return _form_act(request, council, "import", form, act, gettext("The file is imported: its capabilities are recorded."),
                     anchor="#capabilities-h", locate=True)


@login_required
@require_POST
@_acts_back(_back_to_economy)
def set_draft_need(request, slug: str):
    council = _council(slug)
    require_member(request.user, council, gettext("edit its needs list"))
    products = services.products_for(council)
    if request.POST.get("line"):
        product = _posted_product(request, products)
        line = council.draft_needs.filter(product=product).select_related("product").first()
        if line is None:
            raise NotFound(gettext("%(name)s is not on the needs list") % {"name": product.name})
        key = f"need-{product.pk}"
        form = NeedForm(request.POST, prefix=key, line=line, form_id=key)
    else:
        key = "need"
        form = NeedForm(request.POST, prefix=key, products=products)
    return _form_act(
        request, council, key, form,
        lambda f: services.set_draft_need(request.user, council, product=f.chosen_product(), quantity=f.cleaned_data["quantity"],
                                          priority=f.cleaned_data["priority"]),
        gettext("The needs list is changed. It counts once the members adopt it by vote."), anchor="#draft-h")


@login_required
@require_POST
@_acts_back(_back_to_economy)
def remove_draft_need(request, slug: str, product: int):
    council = _council(slug)
    services.remove_draft_need(request.user, council, product)
    messages.success(request, gettext("The line is removed from the needs list."))
    return redirect(economy_url(slug, "#draft-h"))


@login_required
@require_POST
@_acts_back(_back_to_economy)
def propose_needs(request, slug: str):
    council = _council(slug)
    proposal = services.propose_needs(request.user, council)
    messages.success(request, gettext("The needs list is before the members: it counts once they adopt it."))
    return redirect(proposal)


# ----- a plan period ------------------------------------------------------------------------------


@require_GET
def plan_period(request, slug: str, pk: int):
    return _period_page(request, _period(slug, pk))


def _period_page(request, period: PlanPeriod, bound: dict | None = None):
    services.settle_period(period)
    return render(request, "economy/plan_period.html", _period_context(request, period, bound or {}))


def _round_rows(summary: dict, names: dict[int, Council]) -> tuple[list[dict], list[dict]]:
    products = []
    for p in summary["products"]:
        excess = float(p["excess"])
        balance = ("shortage" if excess > BALANCED else "surplus" if excess < -BALANCED else "balanced")
        products.append({**p, "balance": balance, "amount": num(abs(excess)), "price": num(p["price"])})
    info = {p["id"]: p for p in summary["products"]}
    councils = []
    for entry in summary["councils"]:
        rows = [{"product": info.get(r["product"], {}).get("name", "?"), "unit": info.get(r["product"], {}).get("unit", ""),
                 "units": num(r["units"]), "limit": num(r.get("capacity", r.get("quantity"))),
                 "makes": "capability" in r} for r in entry["rows"]]
        councils.append({"council": names.get(entry["council"]), "by_hand": entry["by_hand"], "rows": rows})
    return products, councils


def _hand_rows(summary: dict | None, council_id: int) -> list[dict]:
    """The council's rows of the latest round, as the hand-revision form asks for them."""
    if not summary:
        return []
    info = {p["id"]: p for p in summary["products"]}
    entry = next((e for e in summary["councils"] if e["council"] == council_id), None)
    rows = []
    for r in entry["rows"] if entry else []:
        makes = "capability" in r
        rows.append({"key": r["capability"] if makes else r["need"], "name": info.get(r["product"], {}).get("name", "?"),
                     "unit": info.get(r["product"], {}).get("unit", ""), "units": float(r["units"]),
                     "top": float(r["capacity"] if makes else r["quantity"]),
                     "limit": gettext("our capacity") if makes else gettext("the quantity we need")})
    return rows


def _fulfilment_rows(plan: dict, index: dict, names: dict[int, Council]) -> list[tuple[str, float]]:
    """Each neighbourhood council's share of its needs met, weighted by its priorities (as the engine weighs them)."""
    met: dict[int, float] = {}
    weight: dict[int, float] = {}
    for need in plan["needs"]:
        met[need["council"]] = met.get(need["council"], 0.0) + need["priority"] * need["fulfilment"]
        weight[need["council"]] = weight.get(need["council"], 0.0) + need["priority"]
    order = [c for c in index.get("councils", []) if c in weight] + [c for c in weight if c not in index.get("councils", [])]
    return [(names[c].name if c in names else gettext("council %(c)s") % {"c": c}, met[c] / weight[c] if weight[c] else 1.0) for c in order]


def _certified_text(plan: dict) -> str:
    """The certificate in words: a converged plan's promise, or that the procedure did not converge."""
    certified = plan.get("certified_gap")
    if certified is None:  # a plan reached before the engine certified its plans
        return gettext("yes") if plan.get("converged") else gettext("no: the round limit was reached")
    if plan.get("converged"):
        return gettext("yes: at most %(value)s%% below the best possible plan") % {"value": format(100 * certified, '.2f')}
    return gettext("not converged: certified gap %(value)s%%") % {"value": format(100 * certified, '.2f')}


def _plan_context(period: PlanPeriod, plan: dict, names: dict[int, Council]) -> dict:
    products = {p["id"]: p for p in plan["products"]}
    by_council: dict[int, list[dict]] = {}
    for w in plan["workplaces"]:
        p = products.get(w["product"], {})
        by_council.setdefault(w["council"], []).append({"product": p.get("name", "?"), "unit": p.get("unit", ""), "makes": True,
                                                        "units": num(w["units"]), "limit": num(w["capacity"]),
                                                        "hours": num(w["hours"])})
    for n in plan["needs"]:
        p = products.get(n["product"], {})
        by_council.setdefault(n["council"], []).append({"product": p.get("name", "?"), "unit": p.get("unit", ""), "makes": False,
                                                        "units": num(n["units"]), "limit": num(n["quantity"]),
                                                        "fulfilment": n["fulfilment"], "priority": num(n["priority"])})
    gap = plan.get("gap")
    return {
        "plan": plan,
        "plan_products": [{**p, **{k: num(p[k]) for k in ("labour_value", "price", "made", "used_as_input", "delivered")}}
                          for p in plan["products"]],
        "labour_text": gettext("%(num)s of %(num2)s") % {"num": num(plan['labour_used']), "num2": num(plan['labour_budget'])},
        "gap_text": gettext("not computed") if gap is None else f"{100 * gap:.2f}%",
        "certified_text": _certified_text(plan),
        "plan_councils": [{"council": names.get(c), "rows": rows} for c, rows in by_council.items()],
        "fulfilment_chart": charts.fulfilment_chart(_fulfilment_rows(plan, period.index, names)),
    }


def _period_context(request, period: PlanPeriod, bound: dict) -> dict:
    user, now = request.user, clock.now()
    index = period.index
    participants = services.participants(period)
    names = {c.pk: c for c in Council.objects.filter(pk__in=participants + list(index.get("councils", [])))}
    rounds = list(period.rounds.order_by("attempt", "number"))
    latest = rounds[-1] if rounds else None
    summary = latest.summary if latest else None
    boundaries, total = [], 0
    for r in rounds:
        total += r.iterations
        boundaries.append(total - 1)
    revision_open = period.status == PeriodStatus.ROUNDS and period.round_ends is not None and now < period.round_ends
    progress = services.progress(period)
    context = {
        "period": period, "federation": period.federation, "progress": progress, "now": now,
        "rounds_done": sum(1 for r in rounds if r.attempt == period.attempt), "latest": latest,
        "revision_open": revision_open, "active": period.status in services.ACTIVE_STATUSES,
        "waiting_for": [names[c] for c in progress["waiting_for"] if c in names],
        "opened_by": period.opened_by.proposal,
        "economy_file": f"economy-{period.pk}.json",
        "round_hours": num(period.round_length.total_seconds() / 3600),
        # For the plural of "hour": the whole number of hours, or 2 (plural in every language) for a fraction.
        "round_hours_count": _plural_count(period.round_length.total_seconds() / 3600),
        "shortage_text": None if progress["shortage_share"] is None else _share(progress["shortage_share"]),
        "certified_so_far": None if progress.get("certified_gap") is None else f"{100 * progress['certified_gap']:.2f}%",
    }
    if summary:
        context["round_products"], context["round_councils"] = _round_rows(summary, names)
        context["round_report"] = summary.get("report", {})
    history = services.shortage_history(period)
    if history:
        context["convergence_chart"] = charts.convergence_chart(history, boundaries=boundaries,
                                                                certified=services.certified_history(period))
    context["my_councils"] = _my_councils(user, period, participants, names, summary, bound, now)
    parts = list(period.parts.select_related("council", "vote__decision").order_by("-attempt", "council__name"))
    context["parts"] = [{"part": p, "state": ProposalState(p.vote.state(now)).label, "rows": [
        {"name": r["name"], "unit": r["unit"], "units": num(r["units"]), "makes": "hours" in r,
         "hours": num(r.get("hours", 0)), "quantity": num(r.get("quantity", 0))} for r in p.content]}
        for p in parts if p.attempt == period.attempt]
    context["objections"] = [p for p in parts if p.status == PartStatus.REJECTED]
    adoption = period.votes.filter(kind=EconomyKind.PLAN_ADOPTION).select_related("decision").order_by("-created_at").first()
    context["adoption"] = adoption
    if adoption is not None:
        context["adoption_state"] = ProposalState(adoption.state(now)).label
        context["mandates"] = adoption.mandates.select_related("council", "decision").order_by("council__name")
    plan = period.result
    if plan:
        context.update(_plan_context(period, plan, names))
    return context


def _my_councils(user, period, participants, names, summary, bound, now) -> list[dict]:
    """The participating councils whose elected planning delegate is this member: what they may do on this page."""
    if not getattr(user, "is_authenticated", False):
        return []
    held = set(Office.objects.filter(council_id__in=participants, role=OfficeRole.PLANNING_DELEGATE, holder=user,
                                      starts_at__lte=now, ends_at__gt=now, ended_at__isnull=True)
               .values_list("council_id", flat=True))
    modes = {m.council_id: m for m in PlanningMode.objects.filter(period=period, council_id__in=held)}
    mine = []
    for council_id in participants:
        if council_id not in held or membership_of(user, names[council_id]) is None:
            continue
        key = f"hand-{council_id}"
        rows = _hand_rows(summary, council_id)
        mine.append({
            "council": names[council_id], "mode": modes.get(council_id), "key": key,
            "form": bound.get(key) or HandProposalForm(rows=rows, prefix=key) if rows else None,
            "submitted": HandProposal.objects.filter(period=period, council_id=council_id, attempt=period.attempt,
                                                     round=period.round).first(),
        })
    return mine


def _posted_participant(period: PlanPeriod, raw) -> Council:
    try:
        council_id = int(raw)
    except (TypeError, ValueError):
        raise Invalid(gettext("choose a council"), field="council") from None
    if council_id not in services.participants(period):
        raise NotFound(gettext("that council has no part in this plan period"))
    return Council.objects.get(pk=council_id)


@login_required
@require_POST
@_acts_back(_back_to_period)
def set_planning_mode(request, slug: str, pk: int):
    period = _period(slug, pk)
    council = _posted_participant(period, request.POST.get("council"))
    mode = request.POST.get("mode")
    if mode not in ("rule", "hand"):
        raise Invalid(gettext("choose by rule or by hand"), field="mode")
    services.set_planning_mode(request.user, period, council, by_hand=mode == "hand")
    messages.success(request, (
        gettext("%(name)s answers the rounds by hand: revise its proposal after each round, before the deadline.")
        if mode == "hand" else gettext("%(name)s answers the rounds by its rule.")) % {"name": council.name})
    return redirect(period_url(slug, pk, "#mine-h"))


@login_required
@require_POST
@_acts_back(_back_to_period)
def submit_hand_proposal(request, slug: str, pk: int):
    period = _period(slug, pk)
    council = _posted_participant(period, request.POST.get("council"))
    services.require_planning_delegate(request.user, council, gettext("revise the council's proposal"))
    latest = period.rounds.order_by("-attempt", "-number").first()
    key = f"hand-{council.pk}"
    form = HandProposalForm(request.POST, rows=_hand_rows(latest.summary if latest else None, council.pk), prefix=key)
    if form.is_valid():
        try:
            services.submit_hand_proposal(request.user, period, council, form.quantities())
        except CouncilsError as exc:
            if not _on_form(request, form, exc):
                return redirect(period_url(slug, pk))
        else:
            messages.success(request, gettext("%(name)s's proposal is in: it stands from the next round until revised.") % {"name": council.name})
            return redirect(period_url(slug, pk, "#mine-h"))
    messages.error(request, gettext("Nothing was sent: see the form's errors below."))
    return _period_page(request, period, {key: form})


@require_GET
def economy_file(request, slug: str, pk: int):
    """The economy as it stood when the period opened: anyone may download it and recompute the plan."""
    period = _period(slug, pk)
    if period.status == PeriodStatus.FAILED:
        raise Http404(gettext("This plan period could not start: it has no economy file."))
    response = HttpResponse(period.economy_json, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="economy-{period.pk}.json"'
    return response
