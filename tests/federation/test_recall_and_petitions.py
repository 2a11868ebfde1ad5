"""Recall at the threshold, countback; congresses convened by petition; referendums over the congress."""

from datetime import timedelta

import pytest

from councils.decisions.models import Proposal
from councils.decisions.services import create_proposal, get_decision, settle_due
from councils.errors import Conflict, Invalid, NotAllowed
from councils.federation.models import Congress, Delegate
from councils.federation.petitions import open_petition, overruled_by, progress, sign_petition
from councils.federation.services import (
    create_federation_proposal,
    current_delegates,
    open_recall_petition,
    recall_progress,
    sign_recall,
)
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def test_recall_vote_opens_by_itself_at_the_threshold_and_removes_the_delegate_at_once(
        clock, federation_of, members_of, decide):
    federation, (bakery,) = federation_of([10])
    (delegate,) = current_delegates(bakery, federation)
    members = members_of(bakery)
    petition = open_recall_petition(members[1], delegate)
    assert recall_progress(petition) == (1, 2)  # one fifth of ten members
    assert petition.vote is None
    with pytest.raises(Conflict):
        sign_recall(members[1], petition)
    sign_recall(members[2], petition)
    petition.refresh_from_db()
    vote = petition.vote
    assert vote is not None and vote.kind == "recall" and vote.state(clock.now()) == "voting"
    decision = decide(vote, ["no"] + ["yes"] * 9)
    assert decision.outcome == "adopted"
    delegate.refresh_from_db()
    assert delegate.ended_at == vote.voting_ends and delegate.end_reason == "recalled"


def test_a_non_member_cannot_petition_for_recall(clock, federation_of, make_user):
    federation, (bakery,) = federation_of([3])
    with pytest.raises(NotAllowed):
        open_recall_petition(make_user(), current_delegates(bakery, federation).get())


def test_countback_gives_the_seat_to_the_next_candidate_of_the_count(clock, make_council, make_user, members_of, decide,
                                                                    join_federation):
    from councils.assemblies.services import create_council

    federation = create_council(make_user(), name="F", kind="federation",
                                federation_charter={"competences": ["x"], "delegate_seats": 2})
    council = make_council(members=5)
    join_federation(council, federation)
    a, b, c = members_of(council)[:3]
    now = clock.now()
    election = create_proposal(a, council, kind="delegate_election", federation=federation, seats=2, title="Delegates",
                               options=[{"member": m.username} for m in (a, b, c)], deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))
    ids = {o.member_id: o.pk for o in election.options.all()}
    rankings = [[a, b, c], [a, c], [b, c], [b, a], [c, b], [a, b]]
    decide(election, [{"ranking": [ids[m.pk] for m in r]} for r in rankings])
    seated = {d.member for d in current_delegates(council, federation)}
    assert seated == {a, b}
    recalled = Delegate.objects.get(member=a, federation=federation)
    petition = open_recall_petition(b, recalled)
    sign_recall(c, petition)
    petition.refresh_from_db()
    decide(petition.vote, "yes")
    assert {d.member for d in current_delegates(council, federation)} == {b, c}
    successor = Delegate.objects.get(member=c, federation=federation)
    assert successor.ends_at == recalled.ends_at  # the rest of the term
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="delegate.seated", data_json__contains="countback").exists()


def test_by_election_charter_leaves_the_seat_vacant(clock, make_council, make_user, members_of, decide, join_federation,
                                                   elect_delegates):
    from councils.assemblies.services import create_council

    federation = create_council(make_user(), name="F", kind="federation", federation_charter={"competences": ["x"]})
    council = make_council(members=2, recall_replacement="by_election", recall_threshold="0.3")
    join_federation(council, federation)
    members = members_of(council)
    elect_delegates(council, federation, [members[0], members[1]])
    petition = open_recall_petition(members[1], current_delegates(council, federation).get())
    petition.refresh_from_db()
    decide(petition.vote, "yes")
    assert not current_delegates(council, federation).exists()
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="delegate.seat_vacant").exists()


def back(clock, decide, council, petition, kind="convocation", choice="yes"):
    author = council.memberships.filter(left_at__isnull=True).first().member
    now = clock.now()
    demand = create_proposal(author, council, kind=kind, federation=petition.federation, petition=petition,
                             title=f"Back: {petition.title}", deliberation_ends=now, voting_ends=now + timedelta(hours=2))
    return decide(demand, choice)


def test_congress_convenes_by_itself_when_a_third_of_councils_demand_it(clock, federation_of, members_of, decide):
    federation, councils = federation_of([3, 3, 3, 3, 3, 3])
    petition = open_petition(members_of(councils[0])[1], federation, kind="convocation", title="Extraordinary congress")
    back(clock, decide, councils[0], petition)
    back(clock, decide, councils[1], petition, choice="no")  # rejected: does not count
    assert not Congress.objects.exists() and progress(petition)["councils"] == 1
    decision = back(clock, decide, councils[2], petition)
    congress = Congress.objects.get()
    assert congress.convened_at == decision.decided_at
    assert congress.starts_at == decision.decided_at + timedelta(days=14)
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="congress.convened").exists()
    with pytest.raises(Conflict):
        back(clock, decide, councils[3], petition)  # fulfilled already


def test_only_member_councils_by_the_same_rule_can_cancel_a_congress(clock, federation_of, members_of, decide):
    federation, councils = federation_of([3, 3, 3])
    petition = open_petition(members_of(councils[0])[1], federation, kind="convocation", title="Congress")
    back(clock, decide, councils[0], petition)
    congress = Congress.objects.get()
    # (No route cancels it otherwise: tests/test_every_route.py tries every one.)
    cancel = open_petition(members_of(councils[1])[1], federation, kind="cancel_congress", title="Not needed", congress=congress)
    back(clock, decide, councils[1], cancel, kind="cancel_congress")
    congress.refresh_from_db()
    assert congress.cancelled_at is not None


def test_referendum_by_member_signatures_overrules_a_decision(clock, federation_of, members_of, decide, make_user):
    from councils.decisions.services import cast_ballot

    federation, (bakery, farm) = federation_of([5, 5], charter={"competences": ["bread"], "referendum_member_share": "0.2"})
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Raise bread price", matter="bread")
    for council in (bakery, farm):
        decide(Proposal.objects.get(council=council, mandate_for=proposal), "yes", close=False)
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    decision = get_decision(proposal)
    assert decision.outcome == "adopted"
    petition = open_petition(members_of(farm)[2], federation, kind="referendum", title="Bread price", target=decision)
    with pytest.raises(NotAllowed):
        sign_petition(make_user(), petition)
    sign_petition(members_of(farm)[2], petition)
    assert petition.result_id is None
    sign_petition(members_of(bakery)[3], petition)  # two of ten members: the share is reached
    petition.refresh_from_db()
    referendum = petition.result
    assert referendum.kind == "referendum" and referendum.overrules == decision
    clock.set(referendum.deliberation_ends)
    voters = members_of(bakery) + members_of(farm)
    for voter in voters:
        cast_ballot(voter, referendum, "no" if voter in voters[:7] else "yes")
    with pytest.raises(NotAllowed):
        cast_ballot(make_user(), referendum, "yes")
    clock.set(referendum.voting_ends + timedelta(seconds=1))
    settle_due(federation)
    assert referendum.decision.outcome == "rejected" and referendum.decision.members == 10
    assert overruled_by(decision) == referendum.decision
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="decision.overruled").exists()


def test_petitions_are_checked(clock, federation_of, members_of, make_user):
    federation, (bakery,) = federation_of([3])
    with pytest.raises(NotAllowed):
        open_petition(make_user(), federation, kind="convocation", title="x")
    with pytest.raises(Invalid):
        open_petition(members_of(bakery)[1], federation, kind="coup", title="x")
    petition = open_petition(members_of(bakery)[1], federation, kind="convocation", title="x")
    with pytest.raises(Invalid):
        sign_petition(members_of(bakery)[1], petition)  # congresses are demanded by councils, not signatures
