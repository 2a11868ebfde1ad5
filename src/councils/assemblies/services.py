"""Founding councils, joining and leaving them.

No function here removes a member on anyone's say but their own: removal is a
council decision (a proposal of kind "removal", registered by decisions), applied by
``end_membership_by_decision``. What the apps above must do when a member leaves, or
before a council is read, they register in ``assemblies.hooks``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from councils import clock
from councils.accounts.signing import member_act
from councils.record.statement import content_sha256
from councils.assemblies import hooks
from councils.assemblies.models import ALL_METHODS, Admission, Charter, Council, CouncilKind, DecisionMethod, Membership
from councils.assemblies.permissions import membership_of, require_member, require_person
from councils.errors import Conflict, Invalid, NotAllowed, refuse_control_characters
from councils.record.services import append

MAX_PERIOD = timedelta(days=365)


CHARTER_FIELDS = {
    "admission", "decision_method", "quorum", "deliberation_period", "voting_period", "min_deliberation_period",
    "min_voting_period", "max_voting_period", "allowed_methods", "consensus_fallback", "secret_ballots", "officer_term",
    "mandate", "recall_threshold", "recall_replacement", "max_postponement", "officer_term_limit", "charter_change_method",
}


def _share(value, name: str) -> Decimal:
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(f"{name.replace('_', ' ')} must be a number between 0 and 1", field=name) from None
    if not share.is_finite() or not Decimal(0) <= share <= Decimal(1):
        raise Invalid(f"{name.replace('_', ' ')} must be a share between 0 and 1", field=name)
    return share.quantize(Decimal("0.001"))


def _clean_charter(charter: dict | None) -> dict:
    charter = {k: v for k, v in dict(charter or {}).items() if v is not None}
    unknown = set(charter) - CHARTER_FIELDS
    if unknown:
        raise Invalid(f"unknown charter field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    if "admission" in charter and charter["admission"] not in Admission.values:
        raise Invalid(f"admission must be one of {', '.join(Admission.values)}", field="admission")
    if "decision_method" in charter and charter["decision_method"] not in ALL_METHODS:
        raise Invalid(f"decision method must be one of {', '.join(ALL_METHODS)}", field="decision_method")
    if "allowed_methods" in charter:
        methods = charter["allowed_methods"]
        if not isinstance(methods, (list, tuple)) or any(m not in ALL_METHODS for m in methods):
            raise Invalid(f"allowed methods are a list drawn from {', '.join(ALL_METHODS)}", field="allowed_methods")
        charter["allowed_methods"] = sorted(set(methods))
        if methods and charter.get("decision_method", DecisionMethod.MAJORITY) not in methods:
            raise Invalid("the default decision method must be one the charter allows", field="decision_method")
    if "quorum" in charter:
        charter["quorum"] = _share(charter["quorum"], "quorum")
    if "consensus_fallback" in charter:
        charter["consensus_fallback"] = _share(charter["consensus_fallback"], "consensus_fallback")
        if charter["consensus_fallback"] <= Decimal("0.5"):
            raise Invalid("a fallback after a failed consensus is a supermajority: more than one half", field="consensus_fallback")
    if "mandate" in charter and charter["mandate"] not in ("bound", "free"):
        raise Invalid("a mandate is bound or free", field="mandate")
    if "recall_replacement" in charter and charter["recall_replacement"] not in ("countback", "by_election"):
        raise Invalid("a recalled delegate's seat passes by countback or by_election", field="recall_replacement")
    if "recall_threshold" in charter:
        charter["recall_threshold"] = _share(charter["recall_threshold"], "recall_threshold")
        if charter["recall_threshold"] == 0:
            raise Invalid("a recall needs at least one signature: the threshold is above 0", field="recall_threshold")
    if "officer_term_limit" in charter and (not isinstance(charter["officer_term_limit"], int)
                                            or isinstance(charter["officer_term_limit"], bool)
                                            or not 1 <= charter["officer_term_limit"] <= 50):
        raise Invalid("the officers' term limit is a whole number of consecutive terms from 1 to 50", field="officer_term_limit")
    if "charter_change_method" in charter and charter["charter_change_method"] not in (
            DecisionMethod.MAJORITY, DecisionMethod.TWO_THIRDS, DecisionMethod.MAJORITY_OF_MEMBERS):
        raise Invalid("the charter is changed by majority, two_thirds or majority_of_members", field="charter_change_method")
    if "secret_ballots" in charter and not isinstance(charter["secret_ballots"], bool):
        raise Invalid("secret ballots is yes or no", field="secret_ballots")
    bounds = {
        "deliberation_period": timedelta(0), "voting_period": timedelta(minutes=1),
        "min_deliberation_period": timedelta(0), "min_voting_period": timedelta(0),
        "max_voting_period": timedelta(minutes=1), "officer_term": timedelta(days=1), "max_postponement": timedelta(0),
    }
    for name, low in bounds.items():
        if name in charter:
            period = charter[name]
            if not isinstance(period, timedelta):
                raise Invalid(f"{name.replace('_', ' ')} must be a duration", field=name)
            high = timedelta(days=5 * 365) if name == "officer_term" else MAX_PERIOD
            if not low <= period <= high:
                raise Invalid(f"{name.replace('_', ' ')} must be between {low} and {high.days} days", field=name)
    # The periods votes opened by the rules take (an admission, an appeal) are held to the same floors as any.
    defaults = {f.name: f.default for f in Charter._meta.get_fields() if hasattr(f, "default")}
    for period, floor in (("deliberation_period", "min_deliberation_period"), ("voting_period", "min_voting_period")):
        if charter.get(period, defaults[period]) < charter.get(floor, defaults[floor]):
            raise Invalid(f"the {period.replace('_', ' ')} is under the charter's minimum", field=period)
    return charter


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "council"
    slug, n = base, 1
    while Council.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_council(actor, *, name: str, kind: str, description: str = "", charter: dict | None = None,
                   federation_charter: dict | None = None) -> Council:
    """Found a council. Its founder is its first member; a federation's members are councils, so it has none yet."""
    require_person(actor, "found a council")
    name = refuse_control_characters((name or "").strip(), "name", line_breaks=False)
    refuse_control_characters(description, "description")
    if not name:
        raise Invalid("a council needs a name", field="name")
    if len(name) > 120:
        raise Invalid("a council's name has at most 120 characters", field="name")
    if kind not in CouncilKind.values:
        raise Invalid(f"kind must be one of {', '.join(CouncilKind.values)}", field="kind")
    if len(description or "") > 20_000:
        raise Invalid("the description has at most 20,000 characters", field="description")
    charter = _clean_charter(charter)
    founding = hooks.founding_of(kind)
    if founding is None and federation_charter:
        raise Invalid("only a federation has a federation charter", field="federation_charter")
    if founding is not None:
        founding.clean(federation_charter)
    now = clock.now()
    with transaction.atomic():
        # The founding is signed before the council has a name in the record: council "-", its name, kind and text by hash.
        signed = member_act(actor, act="council.found", council=None, object="council:new", now=now,
                            content_sha256=content_sha256({"name": name, "kind": kind, "description": description or ""}))
        council = Council.objects.create(
            name=name, slug=_unique_slug(name), kind=kind, description=description or "", created_at=now, created_by=actor
        )
        charter_row = Charter.objects.create(council=council, **charter)
        append(council, kind="council.founded", subject=council.subject, state=council.record_state(), at=now, actor=actor,
               signed=signed)
        append(council, kind="charter.adopted", subject=charter_row.subject, state=charter_row.record_state(), at=now, actor=actor)
        if kind != CouncilKind.FEDERATION:
            _admit(council, actor, now, actor=actor, how="founder")
        if founding is not None:
            founding.found(council, federation_charter, now, actor)
    return council


def _admit(council, member, at, *, actor, how: str, decision=None, signed=None) -> Membership:
    try:
        with transaction.atomic():
            membership = Membership.objects.create(council=council, member=member, joined_at=at)
    except IntegrityError:
        raise Conflict(f"{member.username} is already a member of {council.name}") from None
    extra = {"how": how}
    if signed is not None:
        extra["signed"] = signed
    if decision is not None:
        extra["decision"] = decision.pk
    append(council, kind="member.admitted", subject=membership.subject, state=membership.record_state(), at=at, actor=actor, **extra)
    return membership


def join_council(actor, council: Council):
    """Ask to join. Open councils admit at once; otherwise an admission vote of the members opens.

    Returns the new Membership, or the admission Proposal when the members decide.
    """
    require_person(actor, "join a council")
    if council.is_federation:
        raise NotAllowed("A federation's members are councils: a council joins by its own decision.")
    now = clock.now()
    hooks.settle(council, now)
    if membership_of(actor, council):
        raise Conflict(f"You are already a member of {council.name}.")
    with transaction.atomic():
        # The request to join is the member's own signed act, whichever way the council admits.
        signed = member_act(actor, act="membership.request", council=council, object=f"council:{council.slug}",
                            content={}, now=now)
        if council.charter.admission == Admission.OPEN:
            return _admit(council, actor, now, actor=actor, how="open admission", signed=signed)
        return hooks.open_admission_vote(actor, council, now, signed=signed)


def leave_council(actor, council: Council) -> Membership:
    """Leave at once. Ballots in votes still open are withdrawn: a former member does not decide for the council."""
    now = clock.now()
    hooks.settle(council, now)
    membership = require_member(actor, council, "leave it")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.left_at is not None:
            raise Conflict("You have already left.")
        signed = member_act(actor, act="membership.leave", council=council, object=membership.subject, content={}, now=now)
        hooks.member_leaving.send(sender=Membership, member=actor, council=council, at=now, decision=None)
        membership.left_at = now
        membership.save(update_fields=["left_at"])
        append(council, kind="member.left", subject=membership.subject, state=membership.record_state(), at=now, actor=actor,
               signed=signed)
    return membership


def admit_by_decision(decision) -> Membership | None:
    """Apply an adopted admission decision, at the moment the vote closed."""
    proposal = decision.proposal
    if membership_of(proposal.subject_member, proposal.council):
        return None
    return _admit(proposal.council, proposal.subject_member, decision.decided_at, actor=None, how="admitted by vote", decision=decision)


def end_membership_by_decision(decision) -> Membership | None:
    """Apply an adopted removal decision, at the moment the vote closed."""
    proposal = decision.proposal
    membership = membership_of(proposal.subject_member, proposal.council)
    if membership is None:
        return None
    hooks.member_leaving.send(sender=Membership, member=proposal.subject_member, council=proposal.council,
                              at=decision.decided_at, decision=decision)
    membership.left_at = decision.decided_at
    membership.save(update_fields=["left_at"])
    append(
        proposal.council, kind="member.removed", subject=membership.subject, state=membership.record_state(),
        at=decision.decided_at, actor=None, decision=decision.pk,
    )
    return membership


def members_at(council: Council, at):
    """Memberships open at instant ``at``."""
    from django.db.models import Q

    return Membership.objects.filter(council=council, joined_at__lte=at).filter(Q(left_at__isnull=True) | Q(left_at__gt=at))


# ----- changing the charter ---------------------------------------------------------------------------------------
# A council changes its own rules by its own vote (the kind "charter", run by decisions): the proposal carries the
# fields it changes and their new values, as JSON (periods in seconds, shares as decimal strings), frozen when
# proposed. Votes already open keep the rules they were opened under: each proposal stores its method, quorum,
# deadlines and secrecy when it is made.

_PERIOD_FIELDS = {"deliberation_period", "voting_period", "min_deliberation_period", "min_voting_period",
                  "max_voting_period", "officer_term"}
_SHARE_FIELDS = {"quorum", "consensus_fallback", "recall_threshold"}


def charter_values_from_json(changes: dict) -> dict:
    """The model values of a charter change stored as JSON."""
    values = {}
    for name, value in changes.items():
        if name in _PERIOD_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = timedelta(seconds=value)
        values[name] = value
    return values


def _charter_json(name: str, value):
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, Decimal):
        return str(value)
    return value


def clean_charter_change(council: Council, changes) -> dict:
    """Check a proposed charter change against the charter as it would then be; returns the changed fields as JSON.

    Periods may be given as durations or as seconds, shares as numbers or decimal strings."""
    if not isinstance(changes, dict) or not changes:
        raise Invalid("name the charter's fields to change and their new values", field="charter_changes")
    unknown = set(changes) - CHARTER_FIELDS
    if unknown:
        raise Invalid(f"unknown charter field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    current = council.charter
    proposed = charter_values_from_json(changes)
    merged = {name: getattr(current, name) for name in CHARTER_FIELDS}
    merged.update(proposed)
    cleaned = _clean_charter(merged)
    changed = {name: _charter_json(name, cleaned.get(name)) for name in proposed
               if cleaned.get(name) != getattr(current, name)}
    if not changed:
        raise Invalid("the proposed charter is the charter in force: nothing would change", field="charter_changes")
    return changed


def amend_charter(council: Council, changes: dict, at, *, decision) -> Charter:
    """Apply an adopted charter change at the moment its vote closed (inside the decision's transaction)."""
    charter = Charter.objects.select_for_update().get(council=council)
    values = charter_values_from_json(changes)
    for name, value in values.items():
        if name in _SHARE_FIELDS and value is not None:
            value = Decimal(str(value))
        setattr(charter, name, value)
    charter.save(update_fields=list(values))
    append(council, kind="charter.amended", subject=charter.subject, state=charter.record_state(), at=at,
           decision=decision.pk, changes=changes)
    return charter
