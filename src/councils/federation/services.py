"""Affiliation: a council joins or leaves a federation by its own decision, effective when its vote closes."""

from __future__ import annotations

from councils.assemblies.models import Council
from councils.decisions.models import ProposalKind
from councils.errors import Invalid
from councils.federation.models import Affiliation
from councils.record.services import append, lock_chains


def current_affiliation(federation: Council, council: Council) -> Affiliation | None:
    return Affiliation.objects.filter(federation=federation, council=council, left_at__isnull=True).first()


def member_councils(federation: Council):
    return Council.objects.filter(federations_joined__federation=federation, federations_joined__left_at__isnull=True)


def federations_of(council: Council):
    return Council.objects.filter(affiliations__council=council, affiliations__left_at__isnull=True)


def check_affiliation_proposal(council: Council, federation: Council | None, kind: str) -> None:
    if federation is None or not federation.is_federation:
        raise Invalid("name the federation to join or leave", field="federation")
    if federation.pk == council.pk:
        raise Invalid("a federation cannot join itself", field="federation")
    affiliated = current_affiliation(federation, council) is not None
    if kind == ProposalKind.AFFILIATION and affiliated:
        raise Invalid(f"{council.name} is already a member of {federation.name}", field="federation")
    if kind == ProposalKind.DISAFFILIATION and not affiliated:
        raise Invalid(f"{council.name} is not a member of {federation.name}", field="federation")


def apply_affiliation_decision(decision) -> Affiliation | None:
    """Join or leave at the moment the council's vote closed; both chains record it."""
    proposal = decision.proposal
    council, federation = proposal.council, proposal.federation
    at = decision.decided_at
    lock_chains(council, federation)
    affiliation = current_affiliation(federation, council)
    if proposal.kind == ProposalKind.AFFILIATION:
        if affiliation is not None:
            return None
        affiliation = Affiliation.objects.create(federation=federation, council=council, joined_at=at, joined_by=decision)
        kind = "affiliation.joined"
    else:
        if affiliation is None:
            return None
        affiliation.left_at = at
        affiliation.left_by = decision
        affiliation.save(update_fields=["left_at", "left_by"])
        kind = "affiliation.left"
    for chain in (council, federation):
        append(chain, kind=kind, subject=affiliation.subject, state=affiliation.record_state(), at=at, decision=decision.pk)
    return affiliation
