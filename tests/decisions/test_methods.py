"""Every voting method a council may choose, counted by the tally engine."""

from datetime import timedelta

import pytest

from councils.decisions.models import Outcome
from councils.decisions.services import (
    add_minority_report,
    call_fallback_round,
    cast_ballot,
    create_proposal,
    get_decision,
)
from councils.errors import Conflict, Invalid, NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(make_council):
    return make_council(members=4, consensus_fallback="0.75")


def open_vote(clock, council, members_of, **kwargs):
    author = members_of(council)[0]
    now = clock.now()
    return create_proposal(author, council, title=kwargs.pop("title", "Which one?"), deliberation_ends=now,
                           voting_ends=now + timedelta(hours=2), **kwargs)


def close(clock, proposal):
    clock.advance(hours=3)
    return get_decision(proposal)


def ids(proposal):
    return {o.label: o.pk for o in proposal.options.all()}


def test_approval_vote_picks_the_most_approved(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="approval", options=["Oats", "Rye", "Spelt"])
    o = ids(proposal)
    for member, approvals in zip(members_of(council), [["Oats", "Rye"], ["Rye"], ["Rye", "Spelt"], ["Oats"], []]):
        cast_ballot(member, proposal, {"approvals": [o[a] for a in approvals]})
    decision = close(clock, proposal)
    assert decision.outcome == Outcome.DECIDED and decision.winners == ["Rye"]
    assert decision.tally["totals"] == {"Oats": 2, "Rye": 3, "Spelt": 1}


def test_score_vote_picks_the_highest_total(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="score", options=["A", "B"], max_score=5)
    o = ids(proposal)
    for member, (a, b) in zip(members_of(council), [(5, 0), (0, 5), (1, 5), (2, 4), (5, 5)]):
        cast_ballot(member, proposal, {"scores": {str(o["A"]): a, str(o["B"]): b}})
    assert close(clock, proposal).winners == ["B"]


def test_score_out_of_range_is_refused(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="score", options=["A", "B"], max_score=5)
    with pytest.raises(Invalid):
        cast_ballot(members_of(council)[0], proposal, {"scores": {str(ids(proposal)["A"]): 6}})


def test_instant_runoff_transfers_until_a_majority(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="irv", options=["A", "B", "C"])
    o = ids(proposal)
    rankings = [["A", "B"], ["A"], ["B", "A"], ["C", "B"], ["B", "C"]]
    for member, ranking in zip(members_of(council), rankings):
        cast_ballot(member, proposal, {"ranking": [o[x] for x in ranking]})
    decision = close(clock, proposal)
    assert decision.winners == ["B"]
    assert len(decision.tally["rounds"]) == 2 and decision.tally["rounds"][0]["excluded"] == ["C"]


def test_schulze_accepts_ties_and_gives_a_full_ranking(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="schulze", options=["A", "B", "C"])
    o = ids(proposal)
    for member in members_of(council):
        cast_ballot(member, proposal, {"ranking": [[o["A"], o["B"]], o["C"]]})
    decision = close(clock, proposal)
    assert [set(group) for group in decision.tally["ranking"]][-1] == {"C"}


def test_irv_refuses_tied_ranks(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="irv", options=["A", "B"])
    o = ids(proposal)
    with pytest.raises(Invalid):
        cast_ballot(members_of(council)[0], proposal, {"ranking": [[o["A"], o["B"]]]})
    with pytest.raises(Invalid):
        cast_ballot(members_of(council)[0], proposal, {"ranking": [o["A"], o["A"]]})
    with pytest.raises(Invalid):
        cast_ballot(members_of(council)[0], proposal, {"ranking": [99999]})


def test_stv_fills_several_seats(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="stv", seats=2, options=["Ada", "Bo", "Cy"])
    o = ids(proposal)
    for member, ranking in zip(members_of(council), [["Ada", "Bo"], ["Ada", "Cy"], ["Ada"], ["Bo"], ["Cy", "Bo"]]):
        cast_ballot(member, proposal, {"ranking": [o[x] for x in ranking]})
    decision = close(clock, proposal)
    assert decision.winners[0] == "Ada" and len(decision.winners) == 2
    assert decision.tally["quota"] is not None


def test_methods_and_options_must_fit(clock, council, members_of):
    with pytest.raises(Invalid):
        open_vote(clock, council, members_of, decision_method="irv", options=["Only one"])
    with pytest.raises(Invalid):
        open_vote(clock, council, members_of, decision_method="stv", seats=3, options=["A", "B", "C"])
    with pytest.raises(Invalid):
        open_vote(clock, council, members_of, decision_method="majority", options=["A", "B"])
    with pytest.raises(Invalid):
        open_vote(clock, council, members_of, decision_method="approval", options=["A", "A"])
    with pytest.raises(Invalid):
        open_vote(clock, council, members_of, decision_method="dictatorship")
    with pytest.raises(Invalid):
        open_vote(clock, council, members_of, decision_method="irv", seats=2, options=["A", "B", "C"])


def test_charter_limits_the_methods(clock, make_council, members_of):
    council = make_council(allowed_methods=["majority", "irv"])
    with pytest.raises(Invalid) as refused:
        open_vote(clock, council, members_of, decision_method="approval", options=["A", "B"])
    assert refused.value.field == "decision_method"


def test_supermajority_of_members(clock, make_council, members_of):
    council = make_council(members=3, decision_method="majority_of_members")
    proposal = open_vote(clock, council, members_of)
    for member, choice in zip(members_of(council), ["yes", "yes", "no"]):
        cast_ballot(member, proposal, choice)  # 2 of 4 members is not more than half
    assert close(clock, proposal).outcome == "rejected"


def test_consensus_is_stopped_by_a_block_with_a_reason(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="consensus")
    members = members_of(council)
    with pytest.raises(Invalid) as refused:
        cast_ballot(members[0], proposal, {"choice": "block"})
    assert refused.value.field == "reason"
    cast_ballot(members[0], proposal, {"choice": "block", "reason": "It breaks our safety rules."})
    for member in members[1:]:
        cast_ballot(member, proposal, "agree")
    decision = close(clock, proposal)
    assert decision.outcome == "rejected" and decision.blocks == 1


def test_failed_consensus_may_go_to_the_charters_fallback_round(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="consensus")
    members = members_of(council)
    cast_ballot(members[0], proposal, {"choice": "block", "reason": "No."})
    for member in members[1:]:
        cast_ballot(member, proposal, "agree")
    close(clock, proposal)
    second = call_fallback_round(members[1], proposal)
    assert second.decision_method == "fallback" and second.fallback_of == proposal
    with pytest.raises(Conflict):
        call_fallback_round(members[2], proposal)
    cast_ballot(members[0], second, {"choice": "block", "reason": "Still no."})
    for member in members[1:]:
        cast_ballot(member, second, "agree")
    clock.advance(days=5)  # the second round runs for the charter's voting period
    decision = get_decision(second)
    assert decision.outcome == "adopted"  # 4 of 5 >= 3/4


def test_no_fallback_round_without_the_charters_leave(clock, make_council, members_of):
    council = make_council(members=1)
    proposal = open_vote(clock, council, members_of, decision_method="consensus")
    cast_ballot(members_of(council)[0], proposal, {"choice": "block", "reason": "No."})
    close(clock, proposal)
    with pytest.raises(NotAllowed):
        call_fallback_round(members_of(council)[1], proposal)


def test_losing_side_may_attach_a_minority_report(clock, council, members_of):
    proposal = open_vote(clock, council, members_of)
    members = members_of(council)
    for member, choice in zip(members, ["yes", "yes", "yes", "no", "abstain"]):
        cast_ballot(member, proposal, choice)
    decision = close(clock, proposal)
    report = add_minority_report(members[3], decision, "We think the cost is too high.")
    assert report in decision.minority_reports.all()
    with pytest.raises(NotAllowed):
        add_minority_report(members[0], decision, "I won but want to speak.")
    with pytest.raises(NotAllowed):
        add_minority_report(members[4], decision, "I abstained.")
    with pytest.raises(Conflict):
        add_minority_report(members[3], decision, "Twice.")


def test_ranked_vote_minority_is_who_ranked_a_loser_first(clock, council, members_of):
    proposal = open_vote(clock, council, members_of, decision_method="irv", options=["A", "B"])
    o = ids(proposal)
    members = members_of(council)
    for member, first in zip(members, ["A", "A", "A", "B", "B"]):
        cast_ballot(member, proposal, {"ranking": [o[first]]})
    decision = close(clock, proposal)
    add_minority_report(members[4], decision, "B was better.")
    with pytest.raises(NotAllowed):
        add_minority_report(members[0], decision, "A won.")
