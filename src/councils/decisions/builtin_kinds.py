"""The kinds of vote decisions owns: a council's motions, elections of its officers, amendments, appeals against a
hidden comment, and the admission and removal of its members. Registered from ``DecisionsConfig.ready()``, the same
way every other app registers its own (see ``decisions.kinds``)."""

from __future__ import annotations

import json

from councils import clock
from councils.assemblies.models import check_office_for
from councils.assemblies.permissions import membership_of
from councils.assemblies.services import (
    admit_by_decision,
    amend_charter,
    clean_charter_change,
    end_membership_by_decision,
)
from councils.decisions import kinds, services
from councils.decisions.kinds import BASE, Draft, Kind
from councils.decisions.models import ProposalKind
from councils.errors import Conflict, Invalid
from django.utils.translation import gettext as _


def clean_election(draft: Draft) -> dict:
    check_office_for(draft.council, draft.office)
    limit = draft.council.charter.officer_term_limit
    for candidate in draft.candidates:
        member = candidate.get("member")
        if member is not None and services.consecutive_office_terms(member, draft.council, draft.office) >= limit:
            raise Invalid(_("%(username)s has served %(limit)s consecutive terms as %(office)s: the charter asks for rotation") % {"username": member.username, "limit": limit, "office": draft.office}, field="options")
    return {"office": draft.office}


def clean_removal(draft: Draft) -> dict:
    member, council = draft.subject_member, draft.council
    if member is None or membership_of(member, council) is None:
        raise Invalid(_("a removal names a current member"), field="subject_member")
    if services.open_proposals(council, clock.now()).filter(kind=ProposalKind.REMOVAL, subject_member=member).exists():
        raise Conflict(_("a removal vote about this member is already open"))
    return {"subject_member": member}


def clean_charter(draft: Draft) -> dict:
    """A change of the council's own charter: the fields and their new values, checked against the charter in force."""
    return {"payload_json": json.dumps(clean_charter_change(draft.council, draft.payload), sort_keys=True)}


def apply_charter(decision) -> None:
    proposal = decision.proposal
    amend_charter(proposal.council, proposal.payload, decision.decided_at, decision=decision)


def clean_postponement(draft: Draft) -> dict:
    """A postponement beyond the charter's limit: the proposal, its new deadlines (see ``services.clean_postponement``)."""
    payload = services.clean_postponement(draft.council, draft.payload, draft.voting_ends)
    return {"payload_json": json.dumps(payload, sort_keys=True)}


def clean_move(draft: Draft) -> dict:
    """A move names the server the council moves to (its address): the council leaves this one with its whole record."""
    from councils.assemblies.exit import clean_destination

    payload = draft.payload if isinstance(draft.payload, dict) else {}
    if set(payload) - {"destination"}:
        raise Invalid(_("a move names only its destination"), field="destination")
    return {"payload_json": json.dumps({"destination": clean_destination(payload.get("destination"))}, sort_keys=True)}


def apply_move(decision) -> None:
    from councils.assemblies.exit import record_move

    proposal = decision.proposal
    record_move(proposal.council, proposal.payload["destination"], decision.decided_at, decision=decision)


def register() -> None:
    kinds.register(Kind(ProposalKind.MOTION, ProposalKind.MOTION.label, proposable=True))
    kinds.register(Kind(ProposalKind.ELECTION, ProposalKind.ELECTION.label, proposable=True, clean=clean_election,
                        takes=frozenset({"office"}), method="election", apply=services.install_officers))
    kinds.register(Kind(ProposalKind.REMOVAL, ProposalKind.REMOVAL.label, councils=BASE, proposable=True,
                        clean=clean_removal, takes=frozenset({"subject_member"}), method="yes_no",
                        apply=end_membership_by_decision))
    kinds.register(Kind(ProposalKind.ADMISSION, ProposalKind.ADMISSION.label, councils=BASE, method="yes_no",
                        fixed_schedule=True, apply=admit_by_decision))
    kinds.register(Kind(ProposalKind.AMENDMENT, ProposalKind.AMENDMENT.label, method="yes_no", fixed_schedule=True,
                        apply=services.adopt_amendment))
    kinds.register(Kind(ProposalKind.APPEAL, ProposalKind.APPEAL.label, method="yes_no", fixed_schedule=True,
                        apply=services.restore_comment))
    # A council changes its own rules by its own vote, by the method its charter sets for that (two thirds by default).
    kinds.register(Kind(ProposalKind.CHARTER, ProposalKind.CHARTER.label, councils=BASE, proposable=True,
                        clean=clean_charter, takes=frozenset({"payload"}), method="charter_change", apply=apply_charter))
    # Postponing a proposal beyond the charter's limit (``max_postponement``) is the council's decision, by yes/no vote.
    kinds.register(Kind(ProposalKind.POSTPONEMENT, ProposalKind.POSTPONEMENT.label, councils=BASE, proposable=True,
                        clean=clean_postponement, takes=frozenset({"payload"}), method="yes_no",
                        apply=services.apply_postponement))
    # Free exit: the council moves to another server by its own vote, decided as a change of its charter is.
    kinds.register(Kind(ProposalKind.MOVE, ProposalKind.MOVE.label, councils=BASE, proposable=True, clean=clean_move,
                        takes=frozenset({"payload"}), method="charter_change", apply=apply_move))
