"""The economy's acts: catalogue, capabilities, needs, plan periods, rounds, parts and adoption.

Each council keeps its own data and answers for itself: a workplace council
records what it can make, a neighbourhood council adopts its needs by vote, a
federation changes its catalogue and opens a plan period only by its member
councils' mandated vote. The procedure's rounds are computed by the background
worker (``advance``); each council votes on its part of the result, and the
federation adopts the whole plan by a mandated vote, frozen in the record.
"""
from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from councils.accounts.signing import member_act
from councils.record.statement import content_sha256
from councils import clock
from councils.assemblies import models as assemblies_models
from councils.assemblies.models import Council, CouncilKind, DecisionMethod, Office, OfficeRole, YES_NO_METHODS
from councils.assemblies.permissions import membership_of, require_member, require_person
from councils.decisions.models import Ballot, Decision, Outcome, Proposal
from councils.economy.models import (
    Aim, Capability, DraftNeed, HandProposal, Need, PartStatus, PeriodStatus, PlanningMode, PlanningRound, PlanPart,
    PlanPeriod, Product, WorkingHours,
)
from councils.errors import Closed, Conflict, Invalid, NotAllowed, NotFound
from councils.record.services import append, lock_chains, plain
from councils.economy.models import EconomyKind
from django.utils.translation import gettext

PLANNING_MATTER = "production planning"
PRODUCING_KINDS = assemblies_models.PRODUCING_KINDS
NEEDING_KINDS = assemblies_models.NEEDING_KINDS
MAX_NUMBER = 1e12
MAX_CATALOGUE_CHANGES = 500
MAX_ROUNDS = 100
# A worker that has not written for this long is taken to have died; another may take the period over.
STALE_CLAIM = timedelta(minutes=10)
PROGRESS_EVERY_S = 1.0


# ----- small checks ---------------------------------------------------------------


def _number(value, field: str, *, positive: bool = False, maximum: float = MAX_NUMBER) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise Invalid(gettext("must be a number"), field=field)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise Invalid(gettext("must be a number"), field=field) from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise Invalid(gettext("must be a finite positive number") if positive else gettext("must be a finite non-negative number"),
                      field=field)
    if number > maximum:
        raise Invalid(gettext("must be at most %(maximum)s") % {"maximum": format(maximum, 'g')}, field=field)
    return number


def _text(value, field: str, *, maximum: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise Invalid(gettext("must not be empty"), field=field)
    if len(text) > maximum:
        raise Invalid(gettext("has at most %(maximum)s characters") % {"maximum": maximum}, field=field)
    return text


def federations_above(council: Council) -> list[Council]:
    """Every federation the council belongs to, directly or through member federations."""
    from councils.federation.services import federations_of

    found, todo = {}, [council]
    while todo:
        for federation in federations_of(todo.pop()):
            if federation.pk not in found:
                found[federation.pk] = federation
                todo.append(federation)
    return list(found.values())


def base_councils(federation: Council, at: datetime | None = None) -> list[Council]:
    """The base councils under a federation, to any depth, each once, in a stable order."""
    from councils.federation.services import member_councils

    found, todo, seen = {}, [federation], {federation.pk}
    while todo:
        for council in member_councils(todo.pop(), at):
            if council.pk in seen:
                continue
            seen.add(council.pk)
            if council.is_federation:
                todo.append(council)
            else:
                found[council.pk] = council
    return [found[k] for k in sorted(found)]


def catalogue(federation: Council):
    return Product.objects.filter(federation=federation, retired_at__isnull=True)


def products_for(council: Council):
    """The products a council may record: those of the catalogues of its federations."""
    return Product.objects.filter(federation__in=[f.pk for f in federations_above(council)], retired_at__isnull=True)


def _product(council: Council, ref, field: str) -> Product:
    products = products_for(council)
    if isinstance(ref, Product):
        ref = ref.pk
    if isinstance(ref, int) and not isinstance(ref, bool):
        product = products.filter(pk=ref).first()
    else:
        matches = list(products.filter(name=str(ref).strip())[:2])
        if len(matches) > 1:
            raise Invalid(gettext("two of your federations' catalogues list %(ref)s; give the product's id") % {"ref": repr(ref)}, field=field)
        product = matches[0] if matches else None
    if product is None:
        raise Invalid(gettext("%(ref)s is not in the catalogue of a federation %(name)s belongs to") % {"ref": repr(ref), "name": council.name}, field=field)
    return product


def _require_kind(council: Council, kinds, what: str) -> None:
    if council.kind not in kinds:
        labels = " or ".join(CouncilKind(k).label.lower() for k in kinds)
        raise Invalid(gettext("%(what)s are recorded by a %(labels)s") % {"what": what, "labels": labels}, field="council")


# ----- catalogue ------------------------------------------------------------------


def clean_catalogue_change(federation: Council, *, add=(), retire=(), change=()) -> dict:
    """A catalogue change as put to the vote: products to add, to retire (by id), and to re-describe."""
    add, retire, change = list(add or []), list(retire or []), list(change or [])
    if not (add or retire or change):
        raise Invalid(gettext("a catalogue change adds, retires or changes at least one product"), field="add")
    if len(add) + len(retire) + len(change) > MAX_CATALOGUE_CHANGES:
        raise Invalid(gettext("at most %(max_catalogue_changes)s changes at once") % {"max_catalogue_changes": MAX_CATALOGUE_CHANGES}, field="add")
    current = {p.pk: p for p in catalogue(federation)}
    names = {p.name for p in current.values()}
    cleaned_add = []
    for i, item in enumerate(add):
        if not isinstance(item, dict):
            raise Invalid(gettext("each product added has a name and a unit"), field=f"add[{i}]")
        name = _text(item.get("name"), f"add[{i}].name", maximum=100)
        if name in names:
            raise Invalid(gettext("%(name)s is already in the catalogue (or added twice)") % {"name": repr(name)}, field=f"add[{i}].name")
        names.add(name)
        cleaned_add.append({"name": name, "unit": _text(item.get("unit"), f"add[{i}].unit", maximum=30),
                            "description": _text(item.get("description"), f"add[{i}].description", maximum=2000, required=False)})
    cleaned_retire = []
    for i, ref in enumerate(retire):
        if not isinstance(ref, int) or isinstance(ref, bool) or ref not in current or ref in cleaned_retire:
            raise Invalid(gettext("%(ref)s is not a product of %(name)s's current catalogue") % {"ref": repr(ref), "name": federation.name}, field=f"retire[{i}]")
        cleaned_retire.append(ref)
    cleaned_change = []
    for i, item in enumerate(change):
        ref = item.get("product") if isinstance(item, dict) else None
        if not isinstance(ref, int) or isinstance(ref, bool) or ref not in current or ref in cleaned_retire:
            raise Invalid(gettext("%(ref)s is not a product of the current catalogue") % {"ref": repr(ref)}, field=f"change[{i}].product")
        cleaned_change.append({"product": ref,
                               "unit": _text(item.get("unit", current[ref].unit), f"change[{i}].unit", maximum=30),
                               "description": _text(item.get("description", current[ref].description),
                                                    f"change[{i}].description", maximum=2000, required=False)})
    return {"add": cleaned_add, "retire": cleaned_retire, "change": cleaned_change}


def propose_catalogue_change(actor, federation: Council, *, title: str = "", body: str = "", add=(), retire=(), change=(),
                             mandates_due: datetime | None = None, voting_ends: datetime | None = None) -> Proposal:
    """A delegate proposes a change of the catalogue; the member councils decide it by their mandates."""
    from councils.federation.services import create_federation_proposal

    if not federation.is_federation:
        raise Invalid(gettext("a catalogue belongs to a federation"), field="federation")
    payload = clean_catalogue_change(federation, add=add, retire=retire, change=change)
    title = title or _catalogue_title(payload)
    return create_federation_proposal(actor, federation, title=title, body=body, kind=EconomyKind.CATALOGUE,
                                      matter=PLANNING_MATTER, payload=payload, mandates_due=mandates_due, voting_ends=voting_ends)


def _catalogue_title(payload: dict) -> str:
    parts = []
    if payload["add"]:
        parts.append("add " + ", ".join(p["name"] for p in payload["add"][:5]) + ("…" if len(payload["add"]) > 5 else ""))
    if payload["retire"]:
        parts.append(f"retire {len(payload['retire'])} product(s)")
    if payload["change"]:
        parts.append(f"change {len(payload['change'])} product(s)")
    return ("Catalogue: " + "; ".join(parts))[:200]


def apply_catalogue(decision: Decision) -> None:
    proposal, at = decision.proposal, decision.decided_at
    federation, payload = proposal.council, proposal.payload
    current = {p.pk: p for p in catalogue(federation)}
    for ref in payload["retire"]:
        product = current.get(ref)
        if product is None:
            continue  # retired meanwhile by another change
        product.retired_at = at
        product.save(update_fields=["retired_at"])
        append(federation, kind="product.retired", subject=product.subject, state=product.record_state(), at=at,
               decision=decision.pk)
    for item in payload["change"]:
        product = current.get(item["product"])
        if product is None or product.retired_at is not None:
            continue
        product.unit, product.description = item["unit"], item["description"]
        product.save(update_fields=["unit", "description"])
        append(federation, kind="product.changed", subject=product.subject, state=product.record_state(), at=at,
               decision=decision.pk)
    names = set(catalogue(federation).values_list("name", flat=True))
    for item in payload["add"]:
        if item["name"] in names:
            continue  # added meanwhile by another change
        product = Product.objects.create(federation=federation, name=item["name"], unit=item["unit"],
                                         description=item["description"], added_at=at, added_by=decision)
        append(federation, kind="product.added", subject=product.subject, state=product.record_state(), at=at,
               decision=decision.pk)


def undo_catalogue(decision: Decision, referendum: Decision) -> str:
    """The members overruled a catalogue change by referendum: the products it added are retired, the products it
    retired return, and the products it changed get back the unit and description they had before it (from the record),
    unless a later decision changed them again."""
    from councils.record.models import RecordEntry

    federation, at = decision.proposal.council, referendum.decided_at
    done = []
    for product in Product.objects.filter(federation=federation, added_by=decision, retired_at__isnull=True):
        product.retired_at = at
        product.save(update_fields=["retired_at"])
        append(federation, kind="product.retired", subject=product.subject, state=product.record_state(), at=at,
               decision=referendum.pk, reason="its addition was overruled by referendum")
        done.append(f"retired {product.name}")
    entries = RecordEntry.objects.filter(chain=federation.record_chain, kind__in=("product.retired", "product.changed"),
                                         subject__startswith="product:").order_by("seq")
    for entry in entries:
        data = json.loads(entry.data_json)
        if data.get("decision") != decision.pk:
            continue
        product = Product.objects.filter(pk=int(entry.subject.split(":")[1])).first()
        if product is None or plain(product.record_state()) != data["state"]:
            continue  # changed again since: the later decision stands
        if entry.kind == "product.retired":
            product.retired_at = None
            done.append(f"restored {product.name}")
        else:
            earlier = (RecordEntry.objects.filter(chain=federation.record_chain, subject=entry.subject, seq__lt=entry.seq)
                       .order_by("-seq").first())
            if earlier is None:
                continue
            previous = json.loads(earlier.data_json)["state"]
            product.unit, product.description = previous["unit"], previous["description"]
            done.append(f"changed {product.name} back")
        product.save(update_fields=["retired_at", "unit", "description"])
        append(federation, kind="product.restored", subject=product.subject, state=product.record_state(), at=at,
               decision=referendum.pk, overruled=decision.pk)
    return ("Catalogue: " + "; ".join(done) + ".") if done else "The catalogue had already moved on: nothing to undo."


# ----- capabilities -----------------------------------------------------------------


def _clean_inputs(council: Council, product: Product, inputs) -> dict[int, float]:
    if inputs is None:
        return {}
    items = inputs.items() if isinstance(inputs, dict) else None
    if items is None:
        raise Invalid(gettext("inputs map products to units per unit of output"), field="inputs")
    cleaned: dict[int, float] = {}
    for ref, qty in items:
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        where = f"inputs[{ref!r}]"
        used = _product(council, ref, where)
        if used.federation_id != product.federation_id:
            raise Invalid(gettext("%(name)s is in another federation's catalogue than %(name2)s") % {"name": used.name, "name2": product.name}, field=where)
        amount = _number(qty, where)
        if used.pk == product.pk and amount >= 1:
            raise Invalid(gettext("a product cannot use a unit or more of itself per unit made"), field=where)
        if amount > 0:
            cleaned[used.pk] = amount
    return cleaned


def record_capability(actor, council: Council, *, product, labour, capacity, inputs=None, signed=None) -> Capability:
    """A member records (or corrects) what their workplace can make of a product. Nobody outside the council can."""
    require_member(actor, council, gettext("record its capabilities"))
    _require_kind(council, PRODUCING_KINDS, "capabilities")
    product = _product(council, product, "product")
    labour = _number(labour, "labour")
    capacity = _number(capacity, "capacity")
    cleaned = _clean_inputs(council, product, inputs)
    now = clock.now()
    with transaction.atomic():
        lock_chains(council)
        if signed is None:
            signed = member_act(actor, act="capability.record", council=council, object=f"product:{product.pk}", now=now,
                                content={"labour": labour, "capacity": capacity,
                                         "inputs": {str(k): v for k, v in sorted(cleaned.items())}})
        capability = Capability.objects.filter(council=council, product=product).first() or Capability(
            council=council, product=product)
        capability.labour, capability.capacity = labour, capacity
        capability.inputs_json = json.dumps({str(k): v for k, v in sorted(cleaned.items())})
        capability.recorded_at, capability.recorded_by = now, actor
        capability.save()
        append(council, kind="capability.recorded", subject=capability.subject, state=capability.record_state(), at=now,
               actor=actor, signed=signed)
    return capability


def remove_capability(actor, capability: Capability) -> None:
    council = capability.council
    require_member(actor, council, gettext("change its capabilities"))
    now = clock.now()
    with transaction.atomic():
        lock_chains(council)
        signed = member_act(actor, act="capability.remove", council=council, object=f"product:{capability.product_id}",
                            content={}, now=now)
        subject = capability.subject
        capability.delete()
        append(council, kind="capability.removed", subject=subject, state=None, at=now, actor=actor, signed=signed)


def import_capabilities(actor, council: Council, data: bytes | str, *, fmt: str = "csv") -> list[Capability]:
    """A CSV file or an economy file replaces the council's capabilities for the products it lists, all or nothing."""
    from councils.economy.imports import CapabilityImportError, parse_capabilities

    require_member(actor, council, gettext("record its capabilities"))
    _require_kind(council, PRODUCING_KINDS, "capabilities")
    try:
        rows = parse_capabilities(data, frozenset(products_for(council).values_list("name", flat=True)), fmt)
    except CapabilityImportError as exc:
        raise Invalid(exc.message, field=exc.field) from None
    recorded = []
    with transaction.atomic():
        # One signed act for the whole file: the rows as read, by hash.
        signed = member_act(actor, act="capability.import", council=council, object=f"council:{council.slug}",
                            content_sha256=content_sha256([{"product": row.product, "labour": row.labour,
                                                            "capacity": row.capacity, "inputs": dict(row.inputs)}
                                                           for row in rows]))
        for row in rows:
            try:
                recorded.append(record_capability(actor, council, product=row.product, labour=row.labour,
                                                  capacity=row.capacity, inputs=dict(row.inputs), signed=signed))
            except Invalid as exc:
                raise Invalid(exc.message, field=f"{row.where}: {exc.field}") from None
    return recorded


def record_working_hours(actor, council: Council, hours) -> WorkingHours:
    """The hours the council's members offer to work in a period: the labour the plan may ask of them."""
    require_member(actor, council, gettext("record its members' hours"))
    _require_kind(council, PRODUCING_KINDS, "working hours")
    hours = _number(hours, "hours")
    now = clock.now()
    with transaction.atomic():
        lock_chains(council)
        signed = member_act(actor, act="working_hours.record", council=council, object=f"council:{council.slug}",
                            content={"hours": hours}, now=now)
        row = WorkingHours.objects.filter(council=council).first() or WorkingHours(council=council)
        row.hours, row.recorded_at, row.recorded_by = hours, now, actor
        row.save()
        append(council, kind="working_hours.recorded", subject=row.subject, state=row.record_state(), at=now, actor=actor,
               signed=signed)
    return row


# ----- needs -----------------------------------------------------------------------


def set_draft_need(actor, council: Council, *, product, quantity, priority=1.0) -> DraftNeed:
    """Any member edits a line of the council's needs list; it counts once the members adopt the list by vote."""
    require_member(actor, council, gettext("edit its needs list"))
    _require_kind(council, NEEDING_KINDS, "needs")
    product = _product(council, product, "product")
    quantity = _number(quantity, "quantity", positive=True)
    priority = _number(1.0 if priority in (None, "") else priority, "priority", positive=True, maximum=1e6)
    now = clock.now()
    with transaction.atomic():
        lock_chains(council)
        signed = member_act(actor, act="need.set", council=council, object=f"product:{product.pk}",
                            content={"quantity": quantity, "priority": priority}, now=now)
        line = DraftNeed.objects.filter(council=council, product=product).first() or DraftNeed(council=council, product=product)
        line.quantity, line.priority, line.updated_at, line.updated_by = quantity, priority, now, actor
        line.save()
        append(council, kind="draft_need.changed", subject=line.subject, state=line.record_state(), at=now, actor=actor,
               signed=signed)
    return line


def remove_draft_need(actor, council: Council, product) -> None:
    require_member(actor, council, gettext("edit its needs list"))
    product = _product(council, product, "product")
    line = DraftNeed.objects.filter(council=council, product=product).first()
    if line is None:
        raise NotFound(gettext("%(name)s is not on the needs list") % {"name": product.name})
    now = clock.now()
    with transaction.atomic():
        lock_chains(council)
        signed = member_act(actor, act="need.remove", council=council, object=f"product:{product.pk}", content={}, now=now)
        subject = line.subject
        line.delete()
        append(council, kind="draft_need.removed", subject=subject, state=None, at=now, actor=actor, signed=signed)


def propose_needs(actor, council: Council, *, title: str = "", body: str = "", deliberation_ends=None,
                  voting_ends=None) -> Proposal:
    """Put the needs list as it stands to the members' vote; the list voted on is frozen in the proposal."""
    from councils.decisions.services import clean_text, new_proposal, periods, settle_due

    now = clock.now()
    settle_due(council, now)
    require_member(actor, council, gettext("propose its needs list"))
    _require_kind(council, NEEDING_KINDS, "needs")
    lines = list(DraftNeed.objects.filter(council=council, product__retired_at__isnull=True).select_related("product"))
    if not lines:
        raise Invalid(gettext("the needs list is empty: add the products the council needs first"), field="needs")
    payload = [{"product": line.product_id, "name": line.product.name, "unit": line.product.unit,
                "quantity": line.quantity, "priority": line.priority} for line in lines]
    title, body = clean_text(title or f"Our needs: {', '.join(p['name'] for p in payload[:4])}"
                              + ("…" if len(payload) > 4 else ""), body)
    given = {"title": title[:200], "body": body, "payload": payload,
             "deliberation_ends": deliberation_ends.astimezone(timezone.utc).isoformat() if deliberation_ends else None,
             "voting_ends": voting_ends.astimezone(timezone.utc).isoformat() if voting_ends else None}
    deliberation_ends, voting_ends = periods(council, now, deliberation_ends, voting_ends)
    method = council.charter.decision_method if council.charter.decision_method in YES_NO_METHODS else DecisionMethod.MAJORITY
    with transaction.atomic():
        signed = member_act(actor, act="proposal.create", council=council, object=f"council:{council.slug}", now=now,
                            content_sha256=content_sha256(given))
        return new_proposal(council, actor, now, signed=signed, kind=EconomyKind.NEEDS, title=title[:200], body=body,
                             deliberation_ends=deliberation_ends, voting_ends=voting_ends, decision_method=method,
                             payload_json=json.dumps(payload, sort_keys=True))


def current_needs(council: Council):
    return Need.objects.filter(council=council, ended_at__isnull=True).select_related("product")


def apply_needs(decision: Decision) -> None:
    proposal, at, council = decision.proposal, decision.decided_at, decision.proposal.council
    for need in current_needs(council):
        need.ended_at = at
        need.save(update_fields=["ended_at"])
        append(council, kind="need.ended", subject=need.subject, state=need.record_state(), at=at, decision=decision.pk)
    live = set(Product.objects.filter(pk__in=[p["product"] for p in proposal.payload], retired_at__isnull=True)
               .values_list("pk", flat=True))
    for line in proposal.payload:
        if line["product"] not in live:
            continue  # retired from the catalogue while the list was being voted
        need = Need.objects.create(council=council, product_id=line["product"], quantity=line["quantity"],
                                   priority=line["priority"], adopted_by=decision, adopted_at=at)
        append(council, kind="need.adopted", subject=need.subject, state=need.record_state(), at=at, decision=decision.pk)


# ----- plan periods -----------------------------------------------------------------


def build_economy(federation: Council, at: datetime | None = None):
    """The economy of the federation's councils as they recorded it: (Economy, index, notes).

    ``index`` maps the engine's rows back to the councils: products, workplaces
    (a council's capability each), needs, and the neighbourhood councils.
    Raises Invalid when there is nothing to plan.
    """
    from councils.planning import Economy, EconomyError

    from councils.decisions.services import settle_due

    products = list(catalogue(federation).order_by("pk"))
    if not products:
        raise Invalid(gettext("%(name)s's catalogue has no products yet") % {"name": federation.name}, field="catalogue")
    position = {p.pk: i for i, p in enumerate(products)}
    notes: list[str] = []
    councils = base_councils(federation, at)
    for council in councils:
        settle_due(council, at)  # a needs list whose vote has closed counts, even if nobody has looked since
    wp_product, labour, capacity, hours, names, wp_index = [], [], [], [], [], []
    rows, cols, vals = [], [], []
    budget = 0.0
    for council in councils:
        if council.kind not in PRODUCING_KINDS:
            continue
        caps = [c for c in council.capabilities.select_related("product").order_by("product_id") if c.product_id in position]
        if not caps:
            continue
        offered = WorkingHours.objects.filter(council=council).first()
        if offered is None:
            notes.append(f"{council.name} is left out: it has not recorded its members' working hours.")
            continue
        budget += offered.hours
        for cap in caps:
            missing = [k for k in cap.inputs if k not in position]
            if missing:
                notes.append(f"{council.name}'s capability for {cap.product.name} is left out: it uses a product "
                             "no longer in the catalogue.")
                continue
            j = len(wp_product)
            wp_product.append(position[cap.product_id])
            labour.append(cap.labour)
            capacity.append(cap.capacity)
            hours.append(offered.hours)
            names.append(f"{council.slug}: {cap.product.name}")
            wp_index.append({"council": council.pk, "capability": cap.pk, "product": cap.product_id})
            for k, qty in cap.inputs.items():
                rows.append(position[k])
                cols.append(j)
                vals.append(qty)
    need_product, need_qty, need_prio, need_council, need_index, council_ids = [], [], [], [], [], []
    for council in councils:
        if council.kind not in NEEDING_KINDS:
            continue
        needs = [n for n in current_needs(council).order_by("product_id") if n.product_id in position]
        if not needs:
            continue
        council_ids.append(council.pk)
        for need in needs:
            need_product.append(position[need.product_id])
            need_qty.append(need.quantity)
            need_prio.append(need.priority)
            need_council.append(len(council_ids) - 1)
            need_index.append({"council": council.pk, "need": need.pk, "product": need.product_id})
    if not wp_product:
        raise Invalid(gettext("no member workplace council has recorded capabilities and working hours for this catalogue"),
                      field="capabilities")
    if not need_product:
        raise Invalid(gettext("no member neighbourhood council has adopted needs for this catalogue"), field="needs")
    import scipy.sparse as sp

    slugs = dict(Council.objects.filter(pk__in=council_ids).values_list("pk", "slug"))
    try:
        economy = Economy(
            product_names=[p.name for p in products], product_units=[p.unit for p in products],
            workplace_product=np.array(wp_product, dtype=np.int64),
            inputs=sp.csc_matrix((vals, (rows, cols)), shape=(len(products), len(wp_product))),
            labour=np.array(labour), capacity=np.array(capacity), need_product=np.array(need_product, dtype=np.int64),
            need_quantity=np.array(need_qty), need_priority=np.array(need_prio),
            need_council=np.array(need_council, dtype=np.int64), council_names=[slugs[c] for c in council_ids],
            labour_budget=budget, workplace_names=names, workplace_hours=np.array(hours),
        )
    except EconomyError as exc:
        raise Invalid(gettext("the recorded economy cannot be planned: %(exc)s") % {"exc": exc}, field="economy") from None
    index = {"products": [p.pk for p in products], "workplaces": wp_index, "needs": need_index, "councils": council_ids}
    return economy, index, notes


def clean_period_terms(federation: Council, *, title, aim, max_rounds, round_length_hours) -> dict:
    title = _text(title, "title", maximum=200)
    if aim not in Aim.values:
        raise Invalid(gettext("aim must be one of %(values)s") % {"values": ', '.join(Aim.values)}, field="aim")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or not 1 <= max_rounds <= MAX_ROUNDS:
        raise Invalid(gettext("the round limit is a whole number from 1 to %(max_rounds)s") % {"max_rounds": MAX_ROUNDS}, field="max_rounds")
    hours = _number(round_length_hours, "round_length_hours", positive=True, maximum=24 * 60)
    return {"title": title, "aim": aim, "max_rounds": max_rounds, "round_length_s": int(round(hours * 3600)) or 1}


def propose_plan_period(actor, federation: Council, *, title: str, aim: str = Aim.WEIGHTED, max_rounds: int = 10,
                        round_length_hours=24, body: str = "", mandates_due: datetime | None = None,
                        voting_ends: datetime | None = None) -> Proposal:
    """A delegate proposes to open a plan period; it opens when the member councils' mandates adopt it."""
    from councils.federation.services import create_federation_proposal

    if not federation.is_federation:
        raise Invalid(gettext("plan periods are opened by a federation"), field="federation")
    terms = clean_period_terms(federation, title=title, aim=aim, max_rounds=max_rounds,
                               round_length_hours=round_length_hours)
    if PlanPeriod.objects.filter(federation=federation, status__in=ACTIVE_STATUSES).exists():
        raise Conflict(gettext("%(name)s has a plan period in progress; it ends with its adoption or rejection first") % {"name": federation.name})
    build_economy(federation)  # refuse a vote on a period that could not start
    return create_federation_proposal(actor, federation, title=f"Open the plan period: {terms['title']}"[:200], body=body,
                                      kind=EconomyKind.PLAN_PERIOD, matter=PLANNING_MATTER, payload=terms, mandates_due=mandates_due,
                                      voting_ends=voting_ends)


ACTIVE_STATUSES = (PeriodStatus.ROUNDS, PeriodStatus.ACCEPTANCE, PeriodStatus.ADOPTION)


def open_plan_period(decision: Decision) -> PlanPeriod:
    """The federation adopted the period: take the economy as recorded now, and start the rounds."""
    from councils.planning.io import economy_to_dict

    proposal, at = decision.proposal, decision.decided_at
    federation, terms = proposal.council, proposal.payload
    period = PlanPeriod(federation=federation, title=terms["title"], aim=terms["aim"], max_rounds=terms["max_rounds"],
                        round_length=timedelta(seconds=terms["round_length_s"]), opened_by=decision, opened_at=at,
                        updated_at=at)
    if PlanPeriod.objects.filter(federation=federation, status__in=ACTIVE_STATUSES).exists():
        period.status, period.status_reason, period.economy_json = (
            PeriodStatus.FAILED, "another plan period of this federation was still in progress", "{}")
    else:
        try:
            economy, index, notes = build_economy(federation, at)
        except Invalid as exc:
            period.status, period.status_reason, period.economy_json = PeriodStatus.FAILED, exc.message, "{}"
        else:
            period.economy_json = json.dumps(economy_to_dict(economy), sort_keys=True)
            period.index_json = json.dumps(index)
            period.status_reason = " ".join(notes)
    period.save()
    append(federation, kind="plan_period.opened", subject=period.subject, state=period.record_state(), at=at,
           decision=decision.pk)
    if period.status == PeriodStatus.ROUNDS:
        for council_id in participants(period):
            council = Council.objects.get(pk=council_id)
            mode = PlanningMode.objects.create(period=period, council=council, by_hand=False, set_at=at)
            append(council, kind="planning_mode.set", subject=mode.subject, state=mode.record_state(), at=at)
        schedule(period)
    return period


def participants(period: PlanPeriod) -> list[int]:
    """The councils with a part in the period (workplaces, then neighbourhoods), each once."""
    index = period.index
    ids = [w["council"] for w in index.get("workplaces", [])] + [n["council"] for n in index.get("needs", [])]
    return list(dict.fromkeys(ids))


def schedule(period: PlanPeriod) -> None:
    """Ask the worker to take the period's next step (in the same transaction as the act that calls for it)."""
    from councils.economy.tasks import advance_period

    advance_period.enqueue(period.pk)


def planning_delegates(council: Council, now: datetime | None = None):
    now = now or clock.now()
    return Office.objects.filter(council=council, role=OfficeRole.PLANNING_DELEGATE, starts_at__lte=now, ends_at__gt=now,
                                 ended_at__isnull=True)


def require_planning_delegate(actor, council: Council, doing: str) -> None:
    require_person(actor, doing)
    if membership_of(actor, council) is None or not planning_delegates(council).filter(holder=actor).exists():
        raise NotAllowed(gettext("Only %(name)s's elected planning delegate may %(doing)s.") % {"name": council.name, "doing": doing})


def _require_part_of(period: PlanPeriod, council: Council) -> None:
    if council.pk not in participants(period):
        raise NotFound(gettext("%(name)s has no part in this plan period") % {"name": council.name})


def set_planning_mode(actor, period: PlanPeriod, council: Council, *, by_hand: bool) -> PlanningMode:
    """The council's planning delegate chooses: its rule answers each round, or the delegate revises by hand."""
    _require_part_of(period, council)
    require_planning_delegate(actor, council, gettext("choose how the council answers the rounds"))
    if period.status != PeriodStatus.ROUNDS:
        raise Closed(gettext("The rounds of this plan period are over."))
    if not isinstance(by_hand, bool):
        raise Invalid(gettext("by_hand is true or false"), field="by_hand")
    now = clock.now()
    with transaction.atomic():
        lock_chains(council)
        mode = PlanningMode.objects.select_for_update().get(period=period, council=council)
        signed = member_act(actor, act="planning_mode.set", council=council, object=f"plan_period:{period.pk}",
                            content={"by_hand": by_hand}, now=now)
        mode.by_hand, mode.set_at, mode.set_by = by_hand, now, actor
        mode.save()
        append(council, kind="planning_mode.set", subject=mode.subject, state=mode.record_state(), at=now, actor=actor,
               signed=signed)
    return mode


def _council_rows(period: PlanPeriod, council: Council) -> tuple[list[dict], list[dict]]:
    index = period.index
    return ([w for w in index["workplaces"] if w["council"] == council.pk],
            [n for n in index["needs"] if n["council"] == council.pk])


def submit_hand_proposal(actor, period: PlanPeriod, council: Council, quantities: dict) -> HandProposal:
    """The planning delegate types the council's own proposal; it stands from the next round until revised.

    A workplace gives units to make of each product it can make; a neighbourhood
    the units it asks for of each need. Only within the round's deadline.
    """
    from councils.planning.io import economy_from_dict

    _require_part_of(period, council)
    require_planning_delegate(actor, council, gettext("revise the council's proposal"))
    now = clock.now()
    if not isinstance(quantities, dict) or not quantities:
        raise Invalid(gettext("give a quantity for each of the council's rows"), field="quantities")
    workplaces, needs = _council_rows(period, council)
    economy = economy_from_dict(json.loads(period.economy_json))
    index = period.index
    content: dict[str, float] = {}
    for w in workplaces:
        key = str(w["capability"])
        j = index["workplaces"].index(w)
        top = float(economy.effective_capacity[j])
        content[key] = _number(quantities.get(key, quantities.get(int(w["capability"]))), f"quantities[{key}]",
                               maximum=top)
    for n in needs:
        key = str(n["need"])
        k = index["needs"].index(n)
        content[key] = _number(quantities.get(key, quantities.get(int(n["need"]))), f"quantities[{key}]",
                               maximum=float(economy.need_quantity[k]))
    unknown = [k for k in quantities if str(k) not in content]
    if unknown:
        raise Invalid(gettext("%(value)s is not one of %(name)s's rows in this plan") % {"value": repr(unknown[0]), "name": council.name}, field=f"quantities[{unknown[0]}]")
    with transaction.atomic():
        lock_chains(council, period.federation)
        period = PlanPeriod.objects.select_for_update().get(pk=period.pk)
        if period.status != PeriodStatus.ROUNDS or period.round_ends is None or now >= period.round_ends:
            raise Closed(gettext("Revisions are taken between a round's publication and its deadline; none is open now."))
        mode = PlanningMode.objects.get(period=period, council=council)
        if not mode.by_hand:
            raise Conflict(gettext("%(name)s answers by its rule this period; choose to revise by hand first") % {"name": council.name})
        signed = member_act(actor, act="hand_proposal.submit", council=council, object=f"plan_period:{period.pk}",
                            content={"quantities": content}, now=now)
        proposal, _ = HandProposal.objects.update_or_create(
            period=period, council=council, attempt=period.attempt, round=period.round,
            defaults={"content_json": json.dumps(content, sort_keys=True), "submitted_at": now, "submitted_by": actor})
        append(council, kind="hand_proposal.submitted", subject=proposal.subject, state=proposal.record_state(), at=now,
               actor=actor, signed=signed)
        hand = set(period.modes.filter(by_hand=True).values_list("council_id", flat=True))
        answered = set(period.hand_proposals.filter(attempt=period.attempt, round=period.round)
                       .values_list("council_id", flat=True))
        if hand <= answered:
            # everyone planning by hand has answered: the next round need not wait for the deadline
            period.round_ends = now
            period.save(update_fields=["round_ends"])
            schedule(period)
    return proposal


# ----- the worker's steps -------------------------------------------------------------


def settle_due_federation_votes(now: datetime | None = None) -> int:
    """Settle closed catalogue and plan period votes, so a period opens at its vote's close even if nobody looks."""
    from councils.decisions.services import settle_due

    now = now or clock.now()
    federations = set(Proposal.objects.filter(kind__in=[EconomyKind.CATALOGUE, EconomyKind.PLAN_PERIOD],
                                              voting_ends__lte=now, decision__isnull=True, published_at__isnull=False,
                                              withdrawn_at__isnull=True).values_list("council_id", flat=True))
    for federation in Council.objects.filter(pk__in=federations):
        settle_due(federation, now)
    return len(federations)


def due_periods(now: datetime | None = None) -> list[int]:
    """Periods whose next step is due: a round to compute, part votes or an adoption vote closed."""
    now = now or clock.now()
    due = set(PlanPeriod.objects.filter(status=PeriodStatus.ROUNDS).filter(Q(round_ends__isnull=True) | Q(round_ends__lte=now))
              .filter(Q(computing_since__isnull=True) | Q(computing_since__lt=now - STALE_CLAIM)).values_list("pk", flat=True))
    due |= set(Proposal.objects.filter(kind__in=[EconomyKind.PLAN_PART, EconomyKind.PLAN_ADOPTION], voting_ends__lte=now,
                                       decision__isnull=True, plan_period__status__in=ACTIVE_STATUSES)
               .values_list("plan_period_id", flat=True))
    return sorted(due)


def advance(period_id: int) -> str:
    """The worker's step for one period; safe to run twice or in several workers at once."""
    now = clock.now()
    period = PlanPeriod.objects.filter(pk=period_id).select_related("federation").first()
    if period is None:
        return "gone"
    if period.status in (PeriodStatus.ACCEPTANCE, PeriodStatus.ADOPTION):
        settle_period(period)
        return "settled"
    if period.status != PeriodStatus.ROUNDS:
        return "nothing to do"
    if period.round_ends is not None and now < period.round_ends:
        return "waiting for revisions"
    claimed = PlanPeriod.objects.filter(pk=period.pk, status=PeriodStatus.ROUNDS, round=period.round,
                                        attempt=period.attempt).filter(
        Q(computing_since__isnull=True) | Q(computing_since__lt=now - STALE_CLAIM)).update(computing_since=now)
    if not claimed:
        return "taken by another worker"
    try:
        return _compute_round(PlanPeriod.objects.select_related("federation").get(pk=period.pk))
    finally:
        PlanPeriod.objects.filter(pk=period.pk).update(computing_since=None)


def _runner(economy, period: PlanPeriod):
    import logging

    from councils.planning.backends import make_backend

    if economy.n_workplaces >= settings.COUNCILS_DASK_MIN_WORKPLACES:
        try:
            return make_backend("dask", economy, scheduler=settings.COUNCILS_DASK_SCHEDULER)
        except ImportError:  # Dask is an optional extra; the councils' rules give the same answers without it
            logging.getLogger("councils.worker").warning(
                "plan period %s: Dask is not installed (pip install 'councils[dask]'); its rules run on numpy", period.pk)
    return make_backend("numpy", economy)


def _typed(economy, index: dict, overrides: dict) -> tuple[dict[int, float], dict[int, dict[int, float]]]:
    """The hand proposals as engine rows: output per workplace column, and units wanted per need, by council.

    Each council's proposal applies to its own rows only (capability and need ids are separate sequences).
    """
    outputs: dict[int, float] = {}
    requests: dict[int, dict[int, float]] = {}
    position = {c: h for h, c in enumerate(index["councils"])}
    for j, w in enumerate(index["workplaces"]):
        content = overrides.get(w["council"])
        if content is not None and str(w["capability"]) in content:
            outputs[j] = min(float(content[str(w["capability"])]), float(economy.effective_capacity[j]))
    for k, n in enumerate(index["needs"]):
        content = overrides.get(n["council"])
        if content is not None and str(n["need"]) in content:
            wanted = min(float(content[str(n["need"])]), float(economy.need_quantity[k]))
            requests.setdefault(position[n["council"]], {})[k] = wanted
    return outputs, requests


def _hand_overrides(period: PlanPeriod):
    """The standing hand proposals: the latest of each council planning by hand, this attempt."""
    hand = set(period.modes.filter(by_hand=True).values_list("council_id", flat=True))
    latest = {}
    for proposal in period.hand_proposals.filter(attempt=period.attempt, council_id__in=hand).order_by("round", "pk"):
        latest[proposal.council_id] = proposal.content
    return latest


def _state_json(state) -> str:
    """The engine's state between rounds. Only the last step's excess per product is kept: the earlier
    ones are history the page charts by their shortage share, and would make a large economy's state
    tens of megabytes (30 MB against 1.2 MB for 30,000 workplaces)."""
    data = state.to_dict()
    for step in data["history"][:-1]:
        step["excess_demand"] = None
    return json.dumps(data)


def _compute_round(period: PlanPeriod) -> str:
    from councils.planning import facilitate, resume, start
    from councils.planning.io import economy_from_dict

    economy = economy_from_dict(json.loads(period.economy_json))
    index = period.index
    if period.state_json:
        state = resume(economy, json.loads(period.state_json))
    else:
        state = start(economy, period.aim, max_rounds=settings.COUNCILS_PLANNING_ITERATIONS)
    state.done = state.converged = False
    state.max_rounds = state.signal.round + settings.COUNCILS_PLANNING_ITERATIONS
    overrides = _hand_overrides(period)
    outputs, requests = _typed(economy, index, overrides)
    first = len(state.history)
    runner = _runner(economy, period)
    last_write = time.perf_counter()
    try:
        while not state.done:
            proposals = runner.propose(state.signal, state.scale, state.unit)
            for j, units in outputs.items():
                proposals.set_workplace(economy, j, units)
            for h, wanted in requests.items():
                proposals.set_neighbourhood(economy, h, wanted)
            facilitate(state, proposals)
            if time.perf_counter() - last_write > PROGRESS_EVERY_S:
                last_write = time.perf_counter()
                # progress for the page; only the claimant writes, and only while it holds the round
                PlanPeriod.objects.filter(pk=period.pk, round=period.round, attempt=period.attempt).update(
                    state_json=_state_json(state), computing_since=clock.now())
    finally:
        runner.close()
    balanced = state.converged
    iterations = len(state.history) - first
    now = clock.now()
    with transaction.atomic():
        lock_chains(period.federation)
        current = PlanPeriod.objects.select_for_update().get(pk=period.pk)
        if (current.status, current.round, current.attempt) != (PeriodStatus.ROUNDS, period.round, period.attempt):
            return "superseded"
        number = current.round + 1
        summary = _round_summary(current, economy, state, overrides)
        published = PlanningRound.objects.create(period=current, attempt=current.attempt, number=number,
                                                 iterations=iterations, balanced=balanced, finished_at=now,
                                                 summary_json=json.dumps(summary, sort_keys=True))
        append(current.federation, kind="planning_round.published", subject=published.subject,
               state=published.record_state(), at=now)
        current.round, current.state_json, current.updated_at = number, _state_json(state), now
        hand = current.modes.filter(by_hand=True).exists()
        attempt_rounds = current.rounds.filter(attempt=current.attempt).count()
        revised = current.hand_proposals.filter(attempt=current.attempt, round=number - 1).exists()
        if attempt_rounds >= current.max_rounds:
            done = True  # the round limit the federation set
        elif hand:
            # those planning by hand had a window after the last round and left it unused: they are content
            done = balanced and attempt_rounds > 1 and not revised
        else:
            done = balanced
        if done:
            current.round_ends = None
            current.save()
            _finish(current, economy, state, outputs, now)
            return "finished"
        if hand:
            current.round_ends = now + current.round_length
        else:
            current.round_ends = None  # not balanced yet and nobody revises by hand: go on at once
            schedule(current)
        current.save()
    return "published"


def _round_summary(period: PlanPeriod, economy, state, overrides) -> dict:
    """What the page shows after a round: prices, shortages and surpluses, each council's current proposal."""
    index = period.index
    report = state.history[-1]
    last = state.last
    prices = state.indicative_prices
    products = [{"id": pid, "name": economy.product_names[i], "unit": economy.product_units[i],
                 "price": float(prices[i]), "excess": float(report.excess_demand[i])}
                for i, pid in enumerate(index["products"])]
    councils: dict[int, dict] = {}
    for j, w in enumerate(index["workplaces"]):
        entry = councils.setdefault(w["council"], {"council": w["council"], "rows": [], "by_hand": w["council"] in overrides})
        entry["rows"].append({"capability": w["capability"], "product": w["product"], "units": float(last.output[j]),
                              "capacity": float(economy.effective_capacity[j])})
    for k, n in enumerate(index["needs"]):
        entry = councils.setdefault(n["council"], {"council": n["council"], "rows": [], "by_hand": n["council"] in overrides})
        entry["rows"].append({"need": n["need"], "product": n["product"],
                              "units": float(last.fulfilment[k] * economy.need_quantity[k]),
                              "quantity": float(economy.need_quantity[k])})
    return {"iteration": state.signal.round, "report": report.to_dict(), "products": products,
            "hour_value": float(state.signal.hour_value), "councils": list(councils.values())}


def _finish(period: PlanPeriod, economy, state, outputs: dict[int, float], now) -> None:
    """Repair the last proposals into a feasible plan, measure it against the optimum, and put each part to its council."""
    from councils.planning import finish, labour_values, optimum

    # A workplace planning by hand offers at most what it typed: the repair that makes every
    # product balance may ask it for less, never for more (and the optimum is judged on the same offers).
    if outputs:
        capacity = economy.capacity.copy()
        for j, units in outputs.items():
            capacity[j] = min(capacity[j], units)
        economy = economy.with_capacity(capacity)
        state.economy = economy
    result = finish(state)
    try:
        best = optimum(economy, period.aim)
        optimum_objective = float(best.objective)
    except Exception as exc:  # the yardstick failing must not stop the councils' plan
        optimum_objective, period.status_reason = None, f"{period.status_reason} The optimum could not be computed ({exc}).".strip()
    values = labour_values(economy)
    prices = state.indicative_prices
    index = period.index
    made = economy.makes @ result.output
    used = economy.inputs @ result.output
    delivered = economy.delivers @ result.fulfilment
    objective = float(result.objective)
    gap = None if optimum_objective is None else ((optimum_objective - objective) / optimum_objective if optimum_objective > 0 else 0.0)
    plan = {
        "aim": period.aim, "converged": bool(result.converged), "iterations": len(state.history),
        "rounds": period.round, "objective": objective, "optimum_objective": optimum_objective, "gap": gap,
        "hour_value": float(result.hour_value), "labour_used": float(result.measures.labour_used),
        "labour_budget": float(economy.labour_budget), "worst_fulfilment": float(result.measures.worst_fulfilment),
        "weighted_fulfilment": float(result.measures.weighted_fulfilment),
        "products": [{"id": pid, "name": economy.product_names[i], "unit": economy.product_units[i],
                      "labour_value": float(values[i]), "price": float(prices[i]), "made": float(made[i]),
                      "used_as_input": float(used[i]), "delivered": float(delivered[i])}
                     for i, pid in enumerate(index["products"])],
        "workplaces": [{**w, "units": float(result.output[j]), "capacity": float(economy.effective_capacity[j]),
                        "hours": float(economy.labour[j] * result.output[j])} for j, w in enumerate(index["workplaces"])],
        "needs": [{**n, "quantity": float(economy.need_quantity[k]), "units": float(result.fulfilment[k] * economy.need_quantity[k]),
                   "fulfilment": float(result.fulfilment[k]), "priority": float(economy.need_priority[k])}
                  for k, n in enumerate(index["needs"])],
        "convergence": convergence_points([h.shortage_share for h in state.history]),
        # the certificate (docs/planning.md): no plan can do better than ``bound``; this plan is at most
        # ``certified_gap`` below it, and "converged" means that is within the engine's tolerance
        "bound": float(result.bound), "certified_gap": float(result.certified_gap), "tol": float(result.tol),
        "certified_convergence": [[i, h.certified_gap] for i, h in enumerate(state.history)
                                  if h.certified_gap is not None] + [[len(state.history) - 1, float(result.certified_gap)]],
    }
    period.result_json = json.dumps(plan, sort_keys=True)
    period.status = PeriodStatus.ACCEPTANCE
    period.updated_at = now
    period.save()
    append(period.federation, kind="plan_period.converged" if result.converged else "plan_period.round_limit",
           subject=period.subject, state=period.record_state(), at=now)
    _open_part_votes(period, plan, now)


def _author(period: PlanPeriod):
    return period.opened_by.proposal.author


def _open_part_votes(period: PlanPeriod, plan: dict, now) -> None:
    from councils.decisions.services import new_proposal

    product = {p["id"]: p for p in plan["products"]}
    for council_id in participants(period):
        council = Council.objects.select_related("charter").get(pk=council_id)
        def row(line, **extra):
            made = product[line["product"]]
            return {"product": line["product"], "name": made["name"], "unit": made["unit"], "units": line["units"], **extra}

        rows = ([row(w, hours=w["hours"]) for w in plan["workplaces"] if w["council"] == council_id]
                + [row(n, quantity=n["quantity"]) for n in plan["needs"] if n["council"] == council_id])
        producing = council.kind in PRODUCING_KINDS
        lines = "\n".join(f"- {r['name']}: {_fmt(r['units'])} {r['unit']}"
                          + (f" ({_fmt(r['hours'])} hours)" if producing else f" of {_fmt(r['quantity'])} needed")
                          for r in rows)
        what = "our production" if producing else "our deliveries"
        body = (f"{period.federation.name}'s plan period \"{period.title}\" has reached a plan. "
                f"Do we accept {what}?\n\n{lines}\n\nIf we reject it, the period goes back into rounds and our "
                "objection (the reasons given with the no votes) is published.")
        method = council.charter.decision_method if council.charter.decision_method in YES_NO_METHODS else DecisionMethod.MAJORITY
        with transaction.atomic():
            vote = new_proposal(council, _author(period), now, kind=EconomyKind.PLAN_PART,
                                 title=f"Accept {what} in {period.title}"[:200], body=body, deliberation_ends=now,
                                 voting_ends=now + council.charter.voting_period, decision_method=method,
                                 plan_period=period, payload_json=json.dumps(rows, sort_keys=True))
            part = PlanPart.objects.create(period=period, council=council, attempt=period.attempt, vote=vote,
                                           content_json=json.dumps(rows, sort_keys=True))
            append(council, kind="plan_part.put_to_vote", subject=part.subject, state=part.record_state(), at=now)


def _fmt(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def apply_part_vote(decision: Decision) -> None:
    """A council accepted or rejected its part. All accepted: the federation votes on the whole plan.

    A rejection sends the period back into rounds, with the council's objection
    published and the council answering by hand from then on.
    """
    proposal, at = decision.proposal, decision.decided_at
    part = PlanPart.objects.select_related("period", "council").get(vote=proposal)
    period = PlanPeriod.objects.select_for_update().get(pk=part.period_id)
    council = part.council
    if decision.outcome == Outcome.ADOPTED:
        part.status = PartStatus.ACCEPTED
    else:
        part.status = PartStatus.REJECTED
        ballots = proposal.secret_ballots if proposal.secret else Ballot.objects.filter(proposal=proposal)
        reasons = [r.strip() for r in ballots.filter(choice="no").order_by("reason").values_list("reason", flat=True) if r.strip()]
        part.objection = ("\n".join(f"- {r}" for r in reasons) if reasons
                          else f"Rejected by vote ({_fmt(decision.yes)} yes, {_fmt(decision.no)} no) "
                               + ("without reasons given." if decision.outcome == Outcome.REJECTED else "(quorum not met)."))
    part.save(update_fields=["status", "objection"])
    lock_chains(council, period.federation)
    append(council, kind=f"plan_part.{part.status}", subject=part.subject, state=part.record_state(), at=at,
           decision=decision.pk)
    if period.status != PeriodStatus.ACCEPTANCE or part.attempt != period.attempt:
        return  # a vote of an earlier attempt: recorded, but the period has moved on
    if part.status == PartStatus.REJECTED:
        period.status, period.attempt, period.round_ends, period.updated_at = PeriodStatus.ROUNDS, period.attempt + 1, None, at
        period.save()
        append(period.federation, kind="plan_period.part_rejected", subject=period.subject, state=period.record_state(),
               at=at, rejecting_council=council.pk, objection=part.objection)
        mode = PlanningMode.objects.get(period=period, council=council)
        if not mode.by_hand:
            mode.by_hand, mode.set_at, mode.set_by = True, at, None
            mode.save()
            append(council, kind="planning_mode.set", subject=mode.subject, state=mode.record_state(), at=at,
                   reason="our part was rejected: our planning delegate revises by hand")
        schedule(period)
        return
    parts = period.parts.filter(attempt=period.attempt)
    if parts.exclude(status=PartStatus.ACCEPTED).exists():
        return
    _open_adoption_vote(period, at)


def _open_adoption_vote(period: PlanPeriod, at) -> Proposal:
    from councils.decisions.services import new_proposal
    from councils.federation.services import charter_of, send_down

    federation = period.federation
    mandates_due = at + charter_of(federation).mandate_period
    plan = period.result
    body = (f"Every council has accepted its part of \"{period.title}\". The whole plan: {len(plan['workplaces'])} "
            f"production lines, {len(plan['needs'])} needs, {_fmt(plan['labour_used'])} of {_fmt(plan['labour_budget'])} "
            f"hours; worst-served need at {plan['worst_fulfilment']:.0%}.")
    vote = new_proposal(federation, _author(period), at, kind=EconomyKind.PLAN_ADOPTION,
                         title=f"Adopt the plan: {period.title}"[:200], body=body, deliberation_ends=mandates_due,
                         voting_ends=mandates_due + federation.charter.voting_period, decision_method=DecisionMethod.MAJORITY,
                         matter=PLANNING_MATTER, plan_period=period)
    send_down(vote, at)
    period.status, period.updated_at = PeriodStatus.ADOPTION, at
    period.save(update_fields=["status", "updated_at"])
    append(federation, kind="plan_period.all_parts_accepted", subject=period.subject, state=period.record_state(), at=at,
           vote=vote.pk)
    return vote


def apply_adoption(decision: Decision) -> None:
    """The federation's mandated vote on the whole plan. Adopted: the plan is frozen in the record."""
    proposal, at = decision.proposal, decision.decided_at
    period = PlanPeriod.objects.select_for_update().get(pk=proposal.plan_period_id)
    if period.status != PeriodStatus.ADOPTION:
        return
    if period.parts.filter(attempt=period.attempt).exclude(status=PartStatus.ACCEPTED).exists():
        period.status, period.status_reason = PeriodStatus.NOT_ADOPTED, "a council's part was not accepted"
    elif decision.outcome == Outcome.ADOPTED:
        period.status, period.adopted_at = PeriodStatus.ADOPTED, at
    else:
        period.status = PeriodStatus.NOT_ADOPTED
        period.status_reason = f"the member councils did not adopt the plan ({decision.get_outcome_display().lower()})"
    period.updated_at = at
    period.save()
    extra = {"plan": period.result, "economy_sha256": period.economy_sha256} if period.status == PeriodStatus.ADOPTED else {}
    append(period.federation, kind="plan.adopted" if period.status == PeriodStatus.ADOPTED else "plan.not_adopted",
           subject=period.subject, state=period.record_state(), at=at, decision=decision.pk, **extra)


# ----- reading ------------------------------------------------------------------------


def get_period(federation: Council, period_id) -> PlanPeriod:
    period = PlanPeriod.objects.filter(federation=federation, pk=period_id).select_related("federation").first()
    if period is None:
        raise NotFound(gettext("no such plan period"))
    return period


def settle_period(period: PlanPeriod) -> PlanPeriod:
    """Reading a period settles its closed votes first, so what is shown is what the rules have decided."""
    from councils.decisions.services import settle_due

    now = clock.now()
    if period.status in (PeriodStatus.ACCEPTANCE, PeriodStatus.ADOPTION):
        councils = set(period.votes.filter(voting_ends__lte=now, decision__isnull=True).values_list("council_id", flat=True))
        for council in Council.objects.filter(pk__in=councils):
            settle_due(council, now)
        period.refresh_from_db()
    return period


def convergence_points(shares: list[float], most: int = 400) -> list[list[float]]:
    """[iteration, shortage share], thinned to about ``most`` points for the chart."""
    step = max(1, len(shares) // most)
    return [[i, shares[i]] for i in range(0, len(shares), step)]


def shortage_history(period: PlanPeriod) -> list[list[float]]:
    """Shortage share by iteration: the plan's own record when finished, the engine's state while rounds run."""
    plan = period.result
    if plan and plan.get("convergence"):
        return plan["convergence"]
    if not period.state_json:
        return []
    return convergence_points([step["shortage_share"] for step in json.loads(period.state_json).get("history") or []])


def certified_history(period: PlanPeriod) -> list[list[float]]:
    """Certified gap by iteration, where a plan was repaired: the plan's own record when finished, else the state's."""
    plan = period.result
    if plan and plan.get("certified_convergence") is not None:
        return plan["certified_convergence"]
    if not period.state_json:
        return []
    history = json.loads(period.state_json).get("history") or []
    return [[i, step["certified_gap"]] for i, step in enumerate(history) if step.get("certified_gap") is not None]


def progress(period: PlanPeriod) -> dict:
    """Where the period stands, for its page and the API."""
    state = json.loads(period.state_json) if period.state_json else None
    history = state["history"] if state else []
    latest = history[-1] if history else None
    hand = set(period.modes.filter(by_hand=True).values_list("council_id", flat=True))
    answered = set(period.hand_proposals.filter(attempt=period.attempt, round=period.round).values_list("council_id", flat=True))
    return {
        "status": period.status, "attempt": period.attempt, "round": period.round, "max_rounds": period.max_rounds,
        "round_ends": period.round_ends, "computing": period.status == PeriodStatus.ROUNDS and period.round_ends is None,
        "iterations": len(history), "shortage_share": latest["shortage_share"] if latest else None,
        # the best repaired plan's certified gap so far (None until a round has repaired one)
        "certified_gap": next((step.get("certified_gap") for step in reversed(history)
                               if step.get("certified_gap") is not None), None),
        "waiting_for": sorted(hand - answered) if period.round_ends else [],
    }
