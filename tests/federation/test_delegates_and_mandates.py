"""Delegates carry their council's mandate; weights, free mandates, leaving, three levels, competences."""

import json
from datetime import timedelta

import pytest

from councils.decisions.models import Proposal
from councils.decisions.services import cast_ballot, create_proposal, get_decision
from councils.errors import Invalid, NotAllowed
from councils.federation.models import Delegate, FederationBallot, FederationCharter
from councils.federation.services import (
    cast_free_vote,
    create_federation_proposal,
    current_delegates,
    member_councils,
)
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def mandate_in(council, proposal):
    return Proposal.objects.get(council=council, mandate_for=proposal)


def vote_mandate(decide, council, proposal, choices):
    """The council votes its mandate; the vote closes when the federation's mandates are due."""
    return decide(mandate_in(council, proposal), choices, close=False)


def mandates_due(clock, proposal):
    from councils.decisions.services import settle_due

    clock.set(proposal.deliberation_ends + timedelta(seconds=1))
    settle_due(None)


def test_council_elects_its_delegate_for_the_federations_term(clock, federation_of, members_of):
    federation, (bakery,) = federation_of([3])
    (delegate,) = current_delegates(bakery, federation)
    assert delegate.member == members_of(bakery)[0]
    assert delegate.ends_at - delegate.starts_at == timedelta(days=365)
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="delegate.seated").exists()
    assert RecordEntry.objects.filter(chain=bakery.record_chain, kind="delegate.seated").exists()


def test_rotation_limits_consecutive_terms(clock, federation_of, members_of, elect_delegates):
    federation, (bakery,) = federation_of([3], charter={"competences": ["bread"], "delegate_term_limit": 2})
    first = members_of(bakery)[0]
    elect_delegates(bakery, federation, [first, members_of(bakery)[1]])  # second consecutive term
    with pytest.raises(Invalid) as refused:
        elect_delegates(bakery, federation, [first, members_of(bakery)[1]])
    assert "consecutive" in refused.value.message


def test_only_delegates_propose_and_only_within_the_competences(clock, federation_of, members_of):
    federation, (bakery, farm) = federation_of([3, 3])
    delegate = members_of(bakery)[0]
    with pytest.raises(NotAllowed):
        create_federation_proposal(members_of(bakery)[1], federation, title="T", matter="bread")
    with pytest.raises(Invalid) as refused:
        create_federation_proposal(delegate, federation, title="Set the bakery's opening hours", matter="opening hours of members")
    assert refused.value.field == "matter"


def test_mandates_bind_the_delegates_vote(clock, federation_of, members_of, decide):
    federation, (bakery, farm, street) = federation_of([3, 3, 3])
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Shared delivery van", matter="transport")
    # The question went down to every member council.
    assert {p.council for p in proposal.mandates.all()} == {bakery, farm, street}
    vote_mandate(decide, bakery, proposal, ["yes", "yes", "no"])
    vote_mandate(decide, farm, proposal, ["no", "no", "yes"])
    vote_mandate(decide, street, proposal, ["yes", "yes", "yes"])
    mandates_due(clock, proposal)
    # The bakery's delegate voted "no" in their own council, yet the council's vote carries.
    ballot = FederationBallot.objects.get(proposal=proposal, council=bakery)
    assert ballot.mandated and ballot.yes == 1 and ballot.no == 0 and ballot.delegate == members_of(bakery)[0]
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    decision = get_decision(proposal)
    assert (decision.yes, decision.no, decision.outcome) == (2, 1, "adopted")


def test_weights_by_members_and_degressive(clock, federation_of, members_of, decide):
    for weighting, expected in (("members", "rejected"), ("degressive", "adopted")):
        federation, (big, small1, small2) = federation_of(
            [9, 4, 4], charter={"competences": ["bread"], "weighting": weighting}, name=f"Fed {weighting}")
        proposal = create_federation_proposal(members_of(big)[0], federation, title="Bread price", matter="bread")
        vote_mandate(decide, big, proposal, "no")
        vote_mandate(decide, small1, proposal, "yes")
        vote_mandate(decide, small2, proposal, "yes")
        clock.set(proposal.voting_ends + timedelta(seconds=1))
        decision = get_decision(proposal)
        # members: 9 against 8; square roots: 3 against 4.
        assert decision.outcome == expected, weighting


def test_split_mandate_divides_the_councils_weight(clock, federation_of, members_of, decide):
    federation, (bakery,) = federation_of([4], charter={"competences": ["bread"], "mandate_split": True})
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Bread price", matter="bread")
    vote_mandate(decide, bakery, proposal, ["yes", "yes", "yes", "no"])
    mandates_due(clock, proposal)
    ballot = FederationBallot.objects.get(proposal=proposal, council=bakery)
    assert (ballot.yes, ballot.no) == (0.75, 0.25)


def test_ranked_question_carries_each_councils_own_ranking(clock, federation_of, members_of, decide):
    federation, (bakery, farm, street) = federation_of([3, 3, 3])
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Where is the depot?", matter="transport",
                                          decision_method="irv", options=["North", "River", "Hill"])
    for council, order in ((bakery, ["River", "North"]), (farm, ["Hill", "River"]), (street, ["River", "Hill"])):
        mandate = mandate_in(council, proposal)
        ids = {o.label: o.pk for o in mandate.options.all()}
        decide(mandate, {"ranking": [ids[x] for x in order]}, close=False)
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    assert get_decision(proposal).winners == ["River"]


def test_free_mandate_delegate_votes_and_the_council_sees_it_at_once(clock, federation_of, members_of, make_council,
                                                                   join_federation, elect_delegates):
    federation, (bakery,) = federation_of([3])
    free = make_council(members=2, mandate="free")
    join_federation(free, federation)
    elect_delegates(free, federation, [members_of(free)[0]])
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Bread price", matter="bread")
    assert not Proposal.objects.filter(council=free, mandate_for=proposal).exists()
    with pytest.raises(NotAllowed):
        cast_free_vote(members_of(bakery)[0], proposal, "no")  # a bound delegate cannot vote freely
    cast_free_vote(members_of(free)[0], proposal, "no")
    entry = RecordEntry.objects.filter(chain=free.record_chain, kind="federation_ballot.free").get()
    assert json.loads(entry.data_json)["state"]["no"] == 1


def test_a_council_that_leaves_stops_counting_at_once(clock, federation_of, members_of, decide):
    federation, (bakery, farm, street) = federation_of([3, 3, 3])
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Van", matter="transport")
    vote_mandate(decide, bakery, proposal, "yes")
    vote_mandate(decide, farm, proposal, "no")
    vote_mandate(decide, street, proposal, "no")
    mandates_due(clock, proposal)
    leave = create_proposal(members_of(street)[0], street, kind="disaffiliation", federation=federation, title="Leave",
                            deliberation_ends=clock.now(), voting_ends=clock.now() + timedelta(minutes=5))
    decide(leave, "yes")
    assert street not in member_councils(federation)
    assert not current_delegates(street, federation).exists()  # its seats ended with it
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    decision = get_decision(proposal)
    assert (decision.yes, decision.no, decision.outcome) == (1, 1, "rejected")
    assert decision.members == 2


def settle_federation_vote(clock, decide, proposal, choice_of):
    """Every base council under ``proposal`` votes its mandate (``choice_of(council)``); the counts run up to the top."""
    from councils.decisions.services import settle_due

    pending = list(proposal.mandates.all())
    while pending:
        mandate = pending.pop()
        if mandate.council.is_federation:
            pending.extend(mandate.mandates.all())
        else:
            decide(mandate, choice_of(mandate), close=False)
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    settle_due(None)
    return get_decision(proposal)


def test_a_three_level_federation_carries_the_base_mandate_up_two_levels(clock, make_user, federation_of, members_of, decide):
    from councils.assemblies.services import create_council

    confederation = create_council(make_user(), name="Confederation", kind="federation",
                                   federation_charter={"competences": ["rail"]})
    regions = []
    for name, sizes in (("North region", [3, 3]), ("South region", [3])):
        region, councils = federation_of(sizes, name=name)
        delegate = members_of(councils[0])[0]
        # The region joins the confederation by its own decision: its member councils mandate it.
        joining = create_federation_proposal(delegate, region, title="Join the confederation", kind="affiliation",
                                             target=confederation)
        assert settle_federation_vote(clock, decide, joining, lambda m: "yes").outcome == "adopted"
        # ... and elects its delegate there, from among the members of its councils, by the same mandated vote.
        election = create_federation_proposal(delegate, region, title="Our delegate", kind="delegate_election",
                                              target=confederation, options=[{"member": delegate.username}])
        settle_federation_vote(clock, decide, election,
                               lambda m: {"ranking": [m.options.get().pk]})
        assert [d.member for d in current_delegates(region, confederation)] == [delegate]
        regions.append((region, councils, delegate))
    (north, (bakery, farm), north_delegate), (south, (workshop,), _) = regions
    top = create_federation_proposal(north_delegate, confederation, title="A rail line", matter="rail")
    north_mandate = Proposal.objects.get(council=north, mandate_for=top)
    assert {p.council for p in Proposal.objects.filter(mandate_for=north_mandate)} == {bakery, farm}
    decision = settle_federation_vote(clock, decide, top, lambda m: "no" if m.council == workshop else "yes")
    north_ballot = FederationBallot.objects.get(proposal=top, council=north)
    assert north_ballot.mandated and north_ballot.yes == 1 and north_ballot.delegate == north_delegate
    assert (decision.yes, decision.no, decision.outcome) == (1, 1, "rejected")


def test_competences_change_only_by_the_member_councils_mandated_vote(clock, federation_of, members_of, decide):
    federation, (bakery, farm) = federation_of([3, 3])
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Add housing", kind="competences",
                                          competences=["bread", "transport", "housing"])
    vote_mandate(decide, bakery, proposal, "yes")
    vote_mandate(decide, farm, proposal, "yes")
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    get_decision(proposal)
    assert FederationCharter.objects.get(federation=federation).competences == ["bread", "transport", "housing"]
    create_federation_proposal(members_of(bakery)[0], federation, title="Build flats", matter="housing")


def test_a_federation_has_no_members_who_vote_directly(clock, federation_of, members_of):
    federation, (bakery,) = federation_of([3])
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Van", matter="transport")
    clock.set(proposal.deliberation_ends)
    with pytest.raises(NotAllowed):
        cast_ballot(members_of(bakery)[1], proposal, "yes")
