"""Petitions to a federation: a congress that must convene, its cancellation, a referendum.

Member councils back a petition each by its own decision; at the charter's share
the petition is fulfilled by itself, in the same transaction as the decision that
reached it. A referendum petition can also gather the signatures of members.
Nobody, officer or otherwise, can cancel or postpone a congress so convened:
only the member councils, by the same rule.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.db import transaction

from councils.accounts.signing import member_act
from councils.record.statement import content_sha256
from councils import clock
from councils.assemblies.models import Council
from councils.decisions.models import Decision, Outcome, Proposal
from councils.errors import Closed, Conflict, Invalid, NotAllowed
from councils.federation.models import Congress, CouncilDemand, Petition, Signature
from councils.federation.services import (
    base_member_ids,
    charter_of,
    current_affiliation,
    member_councils,
)
from councils.record.services import append, lock_chains
from councils.federation.models import FederationKind
from django.utils.translation import gettext as _

KIND_OF_DEMAND = {
    FederationKind.CONVOCATION: "convocation",
    FederationKind.CANCEL_CONGRESS: "cancel_congress",
    FederationKind.REFERENDUM_DEMAND: "referendum",
}


def open_petition(actor, federation: Council, *, kind: str, title: str, body: str = "", target: Decision | Proposal | None = None,
                  congress: Congress | None = None) -> Petition:
    """Any member of a member council may open a petition; councils then back it by their own decisions."""
    now = clock.now()
    if not federation.is_federation:
        raise Invalid(_("petitions are addressed to a federation"), field="federation")
    if not getattr(actor, "is_authenticated", False) or actor.pk not in base_member_ids(federation, now):
        raise NotAllowed(_("Members of %(name)s's member councils open its petitions.") % {"name": federation.name})
    if kind not in dict(Petition.KINDS):
        raise Invalid(_("kind must be one of %(join)s") % {"join": ', '.join(dict(Petition.KINDS))}, field="kind")
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise Invalid(_("a petition needs a title of at most 200 characters"), field="title")
    if isinstance(target, Proposal):
        target = Decision.objects.filter(proposal=target).first() or target
    if isinstance(target, Proposal):
        raise Invalid(_("“%(title)s” is not decided yet: a referendum puts a decision to the members") % {"title": target.title}, field="target")
    if target is not None and (kind != "referendum" or target.proposal.council_id != federation.pk):
        raise Invalid(_("a referendum may put one of this federation's decisions to the members"), field="target")
    if target is not None and target.pk not in {d.pk for d in referendum_targets(federation)}:
        raise Invalid(_("a referendum puts an adopted decision of the federation, not yet overruled, to the members"),
                      field="target")
    if kind == "cancel_congress":
        if congress is None or congress.federation_id != federation.pk or congress.cancelled_at or congress.starts_at <= now:
            raise Invalid(_("name a congress of this federation that has not begun"), field="congress")
    elif congress is not None:
        raise Invalid(_("only a cancellation names a congress"), field="congress")
    with transaction.atomic():
        signed = member_act(actor, act="petition.open", council=federation, object=f"council:{federation.slug}", now=now,
                            content_sha256=content_sha256({"kind": kind, "title": title, "body": body or "",
                                                           "target": getattr(target, "subject", None),
                                                           "congress": getattr(congress, "pk", None)}))
        petition = Petition.objects.create(federation=federation, kind=kind, title=title, body=body or "", target=target,
                                           congress=congress, opened_by=actor, opened_at=now)
        append(federation, kind="petition.opened", subject=petition.subject, state=petition.record_state(), at=now, actor=actor,
               signed=signed)
    return petition


def check_demand(council: Council, federation: Council | None, petition: Petition | None, kind: str) -> None:
    if federation is None or petition is None or petition.federation_id != federation.pk:
        raise Invalid(_("name the federation and its petition this council backs"), field="petition")
    petition.refresh_from_db()
    if current_affiliation(federation, council) is None:
        raise Invalid(_("%(name)s is not a member of %(name2)s") % {"name": council.name, "name2": federation.name}, field="federation")
    if KIND_OF_DEMAND[kind] != petition.kind:
        raise Invalid(_("the kind of demand does not match the petition"), field="kind")
    if petition.fulfilled_at is not None:
        raise Conflict(_("this petition is already fulfilled"))
    if CouncilDemand.objects.filter(petition=petition, council=council).exists():
        raise Conflict(_("%(name)s already backs this petition") % {"name": council.name})


def progress(petition: Petition, now=None) -> dict:
    """Councils and (referendums) members behind the petition, against what the charter asks."""
    now = now or clock.now()
    federation = petition.federation
    charter = charter_of(federation)
    members = list(member_councils(federation, now))
    backing = CouncilDemand.objects.filter(petition=petition, council__in=members).count()
    share = charter.referendum_council_share if petition.kind == "referendum" else charter.convocation_share
    result = {"councils": backing, "councils_needed": max(1, math.ceil(share * len(members))), "member_councils": len(members)}
    if petition.kind == "referendum":
        people = base_member_ids(federation, now)
        signed = Signature.objects.filter(petition=petition, member_id__in=people).count()
        result.update(signatures=signed, signatures_needed=max(1, math.ceil(charter.referendum_member_share * len(people))),
                      members=len(people))
    return result


def reached(petition: Petition, now) -> bool:
    p = progress(petition, now)
    return p["councils"] >= p["councils_needed"] or (petition.kind == "referendum" and p["signatures"] >= p["signatures_needed"])


def apply_demand(decision) -> CouncilDemand | None:
    """A council decided to back a petition: record it, and fulfil the petition if that reached the charter's share."""
    proposal = decision.proposal
    petition, council, at = proposal.petition, proposal.council, decision.decided_at
    if petition.fulfilled_at is not None or current_affiliation(petition.federation, council) is None:
        return None
    lock_chains(council, petition.federation)
    demand = CouncilDemand.objects.create(petition=petition, council=council, decision=decision, at=at)
    for chain in (council, petition.federation):
        append(chain, kind="petition.backed", subject=demand.subject, state=demand.record_state(), at=at, decision=decision.pk)
    if reached(petition, at):
        fulfil(petition, at)
    return demand


def sign_petition(actor, petition: Petition) -> Signature:
    """Members sign a referendum petition directly; at the charter's share of all members it is fulfilled."""
    now = clock.now()
    if petition.kind != "referendum":
        raise Invalid(_("members sign referendum petitions; congresses are demanded by councils' decisions"), field="petition")
    if not getattr(actor, "is_authenticated", False) or actor.pk not in base_member_ids(petition.federation, now):
        raise NotAllowed(_("Members of %(name)s's member councils sign its petitions.") % {"name": petition.federation.name})
    if petition.fulfilled_at is not None:
        raise Closed(_("This petition is already fulfilled."))
    if Signature.objects.filter(petition=petition, member=actor).exists():
        raise Conflict(_("You have already signed this petition."))
    with transaction.atomic():
        lock_chains(petition.federation)
        signed = member_act(actor, act="petition.sign", council=petition.federation, object=petition.subject, content={}, now=now)
        signature = Signature.objects.create(petition=petition, member=actor, signed_at=now)
        append(petition.federation, kind="petition.signed", subject=signature.subject, state=signature.record_state(), at=now, actor=actor,
               signed=signed)
        if reached(petition, now):
            fulfil(petition, now)
    return signature


def fulfil(petition: Petition, at) -> None:
    from councils.decisions.services import new_proposal

    federation = petition.federation
    charter = charter_of(federation)
    petition.fulfilled_at = at
    if petition.kind == "convocation":
        starts = at + charter.convocation_delay
        congress = Congress.objects.create(federation=federation, title=petition.title, convened_at=at, starts_at=starts,
                                           ends_at=starts + timedelta(days=1), convened_by="petition", petition=petition)
        append(federation, kind="congress.convened", subject=congress.subject, state=congress.record_state(), at=at,
               petition=petition.pk)
    elif petition.kind == "cancel_congress":
        congress = petition.congress
        if congress.cancelled_at is None and congress.starts_at > at:
            congress.cancelled_at = at
            congress.save(update_fields=["cancelled_at"])
            append(federation, kind="congress.cancelled", subject=congress.subject, state=congress.record_state(), at=at,
                   petition=petition.pk)
    else:
        target = petition.target
        body = petition.body or ""
        if target is not None:
            body = f"Shall the decision on “{target.proposal.title}” ({target.get_outcome_display().lower()}) stand?\n\n{body}"
        referendum = new_proposal(
            federation, petition.opened_by, at, kind=FederationKind.REFERENDUM, title=f"Referendum: {petition.title}"[:200],
            body=body, deliberation_ends=at + federation.charter.deliberation_period,
            voting_ends=at + federation.charter.deliberation_period + federation.charter.voting_period, overrules=target,
            petition=petition,
        )
        petition.result = referendum
    petition.save(update_fields=["fulfilled_at", "result"])
    append(federation, kind="petition.fulfilled", subject=petition.subject, state=petition.record_state(), at=at)


def apply_referendum(decision) -> None:
    """The members' direct vote stands over the congress's: a 'no' on a decision's standing overrules it, and undoes
    what the decision did where its kind says how (``Kind.undo``); what was undone is recorded with the overruling."""
    from councils.decisions import kinds

    proposal = decision.proposal
    target = proposal.overrules
    if target is None or decision.outcome != Outcome.REJECTED:
        return
    undo = kinds.kind_of(target.proposal).undo
    undone = undo(target, decision) if undo is not None else NOT_UNDONE.get(
        target.proposal.kind, "This kind of decision changed nothing the application can change back: it no longer stands.")
    append(proposal.council, kind="decision.overruled", subject=target.subject, state=target.record_state(),
           at=decision.decided_at, by_referendum=decision.pk, undone=undone)


# What an overruled decision of a kind without ``undo`` means, said honestly.
NOT_UNDONE = {
    FederationKind.FEDERATION_MOTION: "A federation decision binds by standing: overruled, it no longer stands.",
    FederationKind.DISAFFILIATION: "Leaving is not undone: joining again takes a new decision, under the other "
                                   "federation's admission rule.",
    "plan_period": "A plan period already opened is not closed by the overruling: the planning goes on until the "
                   "member councils decide otherwise.",
    "plan_adoption": "An adopted plan is being carried out and cannot be unmade: the overruling is recorded, and the "
                     "member councils change the plan by a new plan period.",
}


def overruling_of(decision: Decision) -> dict | None:
    """The referendum that overruled ``decision`` and what it undid, from the record."""
    import json

    from councils.record.models import RecordEntry

    entry = (RecordEntry.objects.filter(chain=decision.proposal.council.record_chain, kind="decision.overruled",
                                        subject=decision.subject).order_by("-seq").first())
    if entry is None:
        return None
    data = json.loads(entry.data_json)
    referendum = Decision.objects.filter(pk=data.get("by_referendum")).select_related("proposal").first()
    return {"referendum": referendum.proposal if referendum else None, "undone": data.get("undone", ""), "at": entry.at}


def referendum_targets(federation: Council, only: Decision | None = None):
    """The federation's decisions a referendum may put to the members: adopted (or, elections, decided) votes of the
    federation itself, not referendums, not already put to a referendum that overruled them. ``only``: that decision,
    if it is one of them (a proposal's page asks about its own)."""
    decisions = (Decision.objects.filter(proposal__council=federation, outcome__in=(Outcome.ADOPTED, Outcome.DECIDED))
                 .exclude(proposal__kind__in=(FederationKind.REFERENDUM, FederationKind.MANDATE))
                 .select_related("proposal").order_by("-decided_at"))
    if only is not None:
        decisions = decisions.filter(pk=only.pk)
    decisions = list(decisions)
    # services.overruling_referendum for all of them in one query: a rejected vote on whether the decision stands.
    overruled = set(Proposal.objects.filter(overrules__in=[d.pk for d in decisions], decision__outcome=Outcome.REJECTED)
                    .values_list("overrules_id", flat=True)) if decisions else set()
    return [d for d in decisions if d.pk not in overruled]


def overruled_by(decision: Decision) -> Decision | None:
    for referendum in Proposal.objects.filter(overrules=decision, kind=FederationKind.REFERENDUM):
        result = getattr(referendum, "decision", None)
        if result is not None and result.outcome == Outcome.REJECTED:
            return result
    return None
