"""The house runs one way: the layer contracts hold, and a kind of vote is a plug-in of the app that owns it."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    """`lint-imports` (as CI runs it): no upward import between layers, engines free of Django and apps."""
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_kind_is_registered_by_the_app_that_owns_it():
    from councils.decisions import kinds
    from councils.decisions.models import ProposalKind
    from councils.economy.models import EconomyKind
    from councils.federation.models import FederationKind

    owners = {"decisions.builtin_kinds": ProposalKind, "federation.kinds": FederationKind, "economy.kinds": EconomyKind}
    registered = {(k.name, k.apply.__module__ if k.apply else None) for k in kinds._KINDS.values()}
    for enum in owners.values():
        for name in enum.values:
            assert any(n == name for n, _ in registered), f"{name} is not registered"
    # What adopting a kind does lives in its owner's app, never in decisions for another app's kind.
    for kind in kinds._KINDS.values():
        if kind.name in FederationKind.values and kind.apply is not None:
            assert kind.apply.__module__.startswith("councils.federation")
        if kind.name in EconomyKind.values and kind.apply is not None:
            assert kind.apply.__module__.startswith("councils.economy")


def test_the_proposal_form_and_api_offer_what_members_may_propose():
    from councils.decisions import kinds

    names = kinds.proposable_names()
    assert {"motion", "election", "removal", "affiliation", "delegate_election", "convocation"} <= set(names)
    assert not {"mandate", "recall", "referendum", "plan_part", "catalogue"} & set(names)


@pytest.mark.django_db
def test_a_new_kind_is_one_registration_and_decisions_runs_its_vote(clock, make_council, members_of):
    """The smallest plug-in: registered here, opened by a service of its own, counted and applied by decisions."""
    from councils.decisions import kinds, services
    from councils.decisions.kinds import BASE, Kind

    applied = []
    kind = Kind("test_kind", "A test kind", councils=BASE, method="yes_no", apply=applied.append)
    kinds.register(kind)
    try:
        council = make_council(members=3)
        members = members_of(council)
        with transaction.atomic():
            proposal = services.new_proposal(council, members[0], clock.now(), kind="test_kind", title="Paint the door",
                                             body="", deliberation_ends=clock.now(),
                                             voting_ends=clock.now() + timedelta(hours=1))
        for member in members:
            services.cast_ballot(member, proposal, "yes")
        clock.advance(hours=2)
        decision = services.get_decision(proposal)
        assert decision.outcome == "adopted"
        assert applied == [decision]
        assert proposal.get_kind_display() == "A test kind"
    finally:
        kinds._KINDS.pop(("test_kind", BASE))


@pytest.mark.django_db
def test_a_kind_no_member_may_propose_is_refused_with_the_list(clock, make_council, members_of):
    from councils.decisions.services import create_proposal
    from councils.errors import Invalid

    council = make_council(members=2)
    with pytest.raises(Invalid) as refused:
        create_proposal(members_of(council)[0], council, title="Recall everyone", kind="recall")
    assert refused.value.field == "kind" and "motion" in refused.value.message


@pytest.mark.django_db
def test_a_field_the_kind_does_not_take_is_refused_not_ignored(clock, make_council, members_of):
    from councils.decisions.services import create_proposal
    from councils.errors import Invalid

    council = make_council(members=2)
    with pytest.raises(Invalid) as refused:
        create_proposal(members_of(council)[0], council, title="A motion", office="facilitator")
    assert refused.value.field == "office"
