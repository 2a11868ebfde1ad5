"""The kinds of vote the federation owns, registered with decisions' registry from ``FederationConfig.ready()``:
joining and leaving a federation, electing and recalling delegates, mandates, a federation's own motions and
competences, the admission of a council, demands for a congress or a referendum, and the referendum itself.

A federation's votes are counted by its member councils' mandates (``Counting`` below), except a referendum, which
is put to every member of every member council."""

from __future__ import annotations

from django.utils.translation import gettext as _

from councils.decisions import kinds
from councils.decisions.kinds import ANY, BASE, FEDERATION, Counting, Draft, Kind
from councils.decisions.models import ProposalKind
from councils.errors import Invalid
from councils.federation import petitions, services
from councils.federation.models import FederationKind, Petition


def _affiliation(kind: str):
    def clean(draft: Draft) -> dict:
        services.check_affiliation_proposal(draft.council, draft.federation, kind)
        return {"federation": draft.federation}

    return clean


def delegate_seats(draft: Draft) -> int | None:
    """A delegate election fills the seats the federation's charter gives each council, unless the author says."""
    federation = draft.federation
    if federation is not None and federation.is_federation and draft.seats == 1:
        return services.charter_of(federation).delegate_seats
    return None


def clean_delegate_election(draft: Draft) -> dict:
    services.check_delegate_election(draft.council, draft.federation, draft.candidates, draft.seats)
    return {"federation": draft.federation}


def _demand(kind: str):
    def clean(draft: Draft) -> dict:
        petition = draft.petition
        if petition is not None and not isinstance(petition, Petition):
            petition = Petition.objects.filter(pk=petition).first() if isinstance(petition, int) else None
            if petition is None:
                raise Invalid(_("no petition %(petition)s") % {"petition": draft.petition}, field="petition")
        petitions.check_demand(draft.council, draft.federation, petition, kind)
        return {"federation": draft.federation, "petition": petition}

    return clean


def referendum_electorate(proposal, at) -> set[int]:
    return services.base_member_ids(proposal.council, at)


def open_petitions(council) -> list[tuple[int, str]]:
    return [(p.pk, f"{p.title} ({p.federation.name})")
            for p in Petition.objects.filter(fulfilled_at__isnull=True).select_related("federation").order_by("-pk")]


def register() -> None:
    F = FederationKind
    for name in (F.AFFILIATION, F.DISAFFILIATION):
        # Overruled by referendum (a federation's own joining of a higher federation): it leaves again; a leaving is
        # not undone (joining again is the other federation's admission).
        kinds.register(Kind(name, name.label, proposable=True, clean=_affiliation(name), takes=frozenset({"federation"}),
                            method="yes_no", apply=services.apply_affiliation_decision,
                            undo=services.undo_affiliation if name == F.AFFILIATION else None))
    kinds.register(Kind(F.DELEGATE_ELECTION, F.DELEGATE_ELECTION.label, proposable=True, clean=clean_delegate_election,
                        takes=frozenset({"federation"}), method="election", seats=delegate_seats,
                        eligible=services.is_constituent, apply=services.seat_delegates,
                        undo=services.undo_delegate_election))
    kinds.register(Kind(F.MANDATE, F.MANDATE.label, councils=ANY, apply=services.cast_mandated_ballot,
                        apply_always=True))  # no quorum is a mandate to abstain
    kinds.register(Kind(F.RECALL, F.RECALL.label, councils=BASE, method="yes_no", apply=services.apply_recall))
    kinds.register(Kind(F.FEDERATION_MOTION, F.FEDERATION_MOTION.label, councils=FEDERATION, mandated=True))
    kinds.register(Kind(F.COMPETENCES, F.COMPETENCES.label, councils=FEDERATION, mandated=True,
                        apply=services.apply_competences, undo=services.undo_charter_change))
    # The member councils change their federation's weighting, seats, terms, periods and shares by their mandates.
    kinds.register(Kind(F.FEDERATION_CHARTER, F.FEDERATION_CHARTER.label, councils=FEDERATION, mandated=True,
                        apply=services.apply_federation_charter, undo=services.undo_charter_change))
    for name in (F.CONVOCATION, F.CANCEL_CONGRESS, F.REFERENDUM_DEMAND):
        kinds.register(Kind(name, name.label, councils=BASE, proposable=True, clean=_demand(name),
                            takes=frozenset({"federation", "petition"}), method="yes_no", apply=petitions.apply_demand))
    kinds.register(Kind(F.REFERENDUM, F.REFERENDUM.label, councils=FEDERATION, electorate=referendum_electorate,
                        apply=petitions.apply_referendum, apply_always=True))
    # A federation admits a council (where its charter admits by vote) by its member councils' mandates.
    kinds.register(Kind(ProposalKind.ADMISSION, "Admission of a council", councils=FEDERATION, method="yes_no",
                        fixed_schedule=True, apply=services.admit_council, undo=services.undo_admission_of_council))
    kinds.set_counting(Counting(prepare=services.settle_mandates, rows=services.federation_rows,
                                count=services.count_federation_vote))
    kinds.register_field_choices("petition", open_petitions)
