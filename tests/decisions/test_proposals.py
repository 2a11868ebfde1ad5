from datetime import timedelta

import pytest

from councils.assemblies.services import join_council, leave_council
from councils.decisions.models import Ballot, Decision
from councils.decisions.services import add_comment, cast_ballot, create_proposal, get_decision, settle_due
from councils.errors import Closed, Conflict, Invalid, NotAllowed
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def test_member_makes_a_proposal_with_the_charter_periods_by_default(clock, make_council, members_of):
    council = make_council(deliberation_period=timedelta(days=2), voting_period=timedelta(days=5))
    proposal = create_proposal(members_of(council)[0], council, title="Four-day week", body="We *propose*.")
    assert proposal.deliberation_ends == clock.now() + timedelta(days=2)
    assert proposal.voting_ends == clock.now() + timedelta(days=7)
    assert proposal.state(clock.now()) == "deliberation"
    assert RecordEntry.objects.filter(chain=council.record_chain).last().kind == "proposal.created"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "T", "body": "x" * 100_001}, "body"),
        ({"title": "T", "deliberation_ends_in": timedelta(hours=-2)}, "deliberation_ends"),
        ({"title": "T", "deliberation_ends_in": timedelta(hours=2), "voting_ends_in": timedelta(hours=1)}, "voting_ends"),
        ({"title": "T", "voting_ends_in": timedelta(days=400)}, "voting_ends"),
        ({"title": "T", "kind": "coup"}, "kind"),
        ({"title": "T", "kind": "admission"}, "kind"),
    ],
)
def test_bad_proposals_are_refused_naming_the_field(clock, make_council, members_of, kwargs, field):
    council = make_council()
    kwargs = dict(kwargs)
    now = clock.now()
    if "deliberation_ends_in" in kwargs:
        kwargs["deliberation_ends"] = now + kwargs.pop("deliberation_ends_in")
    if "voting_ends_in" in kwargs:
        kwargs["voting_ends"] = now + kwargs.pop("voting_ends_in")
    with pytest.raises(Invalid) as refused:
        create_proposal(members_of(council)[0], council, **kwargs)
    assert refused.value.field == field


def test_non_member_cannot_propose_comment_or_vote(clock, make_council, make_user, make_proposal):
    council = make_council()
    proposal = make_proposal(council, deliberation=timedelta(0))
    outsider = make_user()
    with pytest.raises(NotAllowed):
        create_proposal(outsider, council, title="Mine")
    with pytest.raises(NotAllowed):
        add_comment(outsider, proposal, "hello")
    with pytest.raises(NotAllowed):
        cast_ballot(outsider, proposal, "yes")
    assert not Ballot.objects.exists()


def test_voting_waits_for_the_end_of_deliberation(clock, make_council, members_of, make_proposal):
    council = make_council()
    proposal = make_proposal(council)
    with pytest.raises(Closed):
        cast_ballot(members_of(council)[0], proposal, "yes")
    clock.advance(hours=1)
    assert cast_ballot(members_of(council)[0], proposal, "yes").choice == "yes"


def test_a_member_changes_their_vote_until_the_close_and_it_counts_once(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    ana, bea = members_of(council)
    proposal = make_proposal(council)
    clock.advance(hours=1)
    cast_ballot(ana, proposal, "no")
    cast_ballot(ana, proposal, "yes")
    cast_ballot(bea, proposal, "yes")
    assert Ballot.objects.filter(proposal=proposal).count() == 2
    kinds = list(RecordEntry.objects.filter(chain=council.record_chain, kind__startswith="ballot").values_list("kind", flat=True))
    assert kinds == ["ballot.cast", "ballot.changed", "ballot.cast"]
    clock.advance(hours=2)
    with pytest.raises(Closed):
        cast_ballot(ana, proposal, "no")
    decision = get_decision(proposal)
    assert (decision.yes, decision.no, decision.outcome) == (2, 0, "adopted")


def test_bad_choice_is_refused(clock, make_council, members_of, make_proposal):
    council = make_council()
    proposal = make_proposal(council, deliberation=timedelta(0))
    with pytest.raises(Invalid):
        cast_ballot(members_of(council)[0], proposal, "maybe")


def test_vote_closes_at_its_deadline_without_any_worker(clock, make_council, members_of, make_proposal):
    council = make_council(members=3)
    proposal = make_proposal(council)
    clock.advance(hours=1)
    for member, choice in zip(members_of(council), ["yes", "yes", "no", "abstain"]):
        cast_ballot(member, proposal, choice)
    assert get_decision(proposal) is None
    clock.advance(days=10)  # nobody looked for ten days
    decision = get_decision(proposal)
    assert decision.decided_at == proposal.voting_ends
    assert (decision.yes, decision.no, decision.abstain, decision.members) == (2, 1, 1, 4)
    assert decision.outcome == "adopted" and decision.quorum_met
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="decision.made").get().at.startswith("2030-03-02T12:00")


def test_settling_twice_writes_one_decision(clock, make_council, make_proposal):
    council = make_council()
    proposal = make_proposal(council)
    clock.advance(hours=5)
    settle_due(council)
    settle_due(council)
    assert Decision.objects.filter(proposal=proposal).count() == 1


def test_tie_is_rejected_under_simple_majority(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    proposal = make_proposal(council)
    clock.advance(hours=1)
    yes_voter, no_voter = members_of(council)
    cast_ballot(yes_voter, proposal, "yes")
    cast_ballot(no_voter, proposal, "no")
    clock.advance(hours=2)
    assert get_decision(proposal).outcome == "rejected"


def test_no_quorum_when_too_few_take_part(clock, make_council, members_of, make_proposal):
    council = make_council(members=9, quorum="0.5")
    proposal = make_proposal(council)
    clock.advance(hours=1)
    for member in members_of(council)[:4]:
        cast_ballot(member, proposal, "yes")
    clock.advance(hours=2)
    decision = get_decision(proposal)
    assert decision.outcome == "no_quorum" and not decision.quorum_met


def test_abstentions_count_towards_quorum_not_majority(clock, make_council, members_of, make_proposal):
    council = make_council(members=3, quorum="1")
    proposal = make_proposal(council)
    clock.advance(hours=1)
    for member, choice in zip(members_of(council), ["yes", "abstain", "abstain", "abstain"]):
        cast_ballot(member, proposal, choice)
    clock.advance(hours=2)
    decision = get_decision(proposal)
    assert decision.quorum_met and decision.outcome == "adopted"


def test_two_thirds_rule_is_fixed_when_proposed(clock, make_council, members_of, make_proposal):
    council = make_council(members=2, decision_method="two_thirds")
    proposal = make_proposal(council)
    clock.advance(hours=1)
    for member, choice in zip(members_of(council), ["yes", "yes", "no"]):
        cast_ballot(member, proposal, choice)
    clock.advance(hours=2)
    assert get_decision(proposal).outcome == "adopted"  # exactly two thirds


def test_a_member_who_leaves_takes_their_open_ballot_with_them(clock, make_council, make_user, make_proposal):
    council = make_council(members=2)
    proposal = make_proposal(council)
    leaver = make_user()
    join_council(leaver, council)
    clock.advance(hours=1)
    cast_ballot(leaver, proposal, "no")
    leave_council(leaver, council)
    assert not Ballot.objects.filter(voter=leaver).exists()
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="ballot.withdrawn").exists()
    clock.advance(hours=2)
    assert get_decision(proposal).members == 3


def test_comments_are_recorded_and_empty_ones_refused(clock, make_council, members_of, make_proposal):
    council = make_council()
    proposal = make_proposal(council)
    ana = members_of(council)[0]
    comment = add_comment(ana, proposal, "I agree.")
    assert comment.body == "I agree."
    assert RecordEntry.objects.filter(chain=council.record_chain).last().kind == "comment.added"
    with pytest.raises(Invalid):
        add_comment(ana, proposal, "   ")


def test_second_removal_vote_about_the_same_member_is_refused(clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    author, target, _ = members_of(council)
    make_proposal(council, author, kind="removal", subject_member=target)
    with pytest.raises(Conflict):
        make_proposal(council, author, kind="removal", subject_member=target)
