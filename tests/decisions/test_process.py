"""The proposal's life: draft, deliberation, voting, decided or withdrawn; amendments; officers."""

from datetime import timedelta

import pytest

from councils.decisions.models import Proposal
from councils.decisions.services import (
    accept_amendment,
    add_comment,
    appeal_hidden_comment,
    cast_ballot,
    create_proposal,
    get_decision,
    hide_comment,
    is_officer,
    move_amendment,
    publish_draft,
    reschedule,
    settle_due,
    visible_proposals,
    withdraw_proposal,
)
from councils.errors import Closed, Conflict, Invalid, NotAllowed, NotFound
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def vote_all(proposal, members, choice="yes"):
    for member in members:
        cast_ballot(member, proposal, choice)


def test_a_draft_is_seen_only_by_its_author_until_published(clock, make_council, members_of):
    council = make_council(members=1)
    author, other = members_of(council)
    draft = create_proposal(author, council, title="Draft", draft=True)
    assert draft.state(clock.now()) == "draft"
    assert draft not in visible_proposals(other, council)
    assert not RecordEntry.objects.filter(subject=draft.subject).exists()
    with pytest.raises(NotFound):
        cast_ballot(other, draft, "yes")
    with pytest.raises(NotAllowed):
        publish_draft(other, draft)
    publish_draft(author, draft)
    assert draft in visible_proposals(other, council)
    assert RecordEntry.objects.filter(subject=draft.subject, kind="proposal.created").exists()


def test_author_withdraws_until_the_vote_closes_but_not_after(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    author, other = members_of(council)
    proposal = make_proposal(council, author)
    with pytest.raises(NotAllowed):
        withdraw_proposal(other, proposal)
    withdraw_proposal(author, proposal)
    assert proposal.state(clock.now()) == "withdrawn"
    clock.advance(hours=5)
    assert get_decision(proposal) is None and not settle_due(council)
    during = make_proposal(council, author)
    clock.advance(hours=1)  # voting is open: still the author's to withdraw
    withdraw_proposal(author, during)
    assert during.state(clock.now()) == "withdrawn"
    late = make_proposal(council, author)
    clock.advance(hours=4)  # closed and decided
    with pytest.raises(Closed):
        withdraw_proposal(author, late)


def test_deadlines_move_only_before_voting_opens(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    author, other = members_of(council)
    proposal = make_proposal(council, author)
    now = clock.now()
    with pytest.raises(NotAllowed):
        reschedule(other, proposal, deliberation_ends=now + timedelta(hours=3), voting_ends=now + timedelta(hours=5))
    reschedule(author, proposal, deliberation_ends=now + timedelta(hours=3), voting_ends=now + timedelta(hours=5))
    assert proposal.voting_ends == now + timedelta(hours=5)
    clock.advance(hours=3)
    with pytest.raises(Closed):
        reschedule(author, proposal, deliberation_ends=clock.now() + timedelta(hours=3), voting_ends=clock.now() + timedelta(hours=9))


def test_charter_limits_the_periods(clock, make_council, members_of):
    council = make_council(min_deliberation_period=timedelta(days=1), max_voting_period=timedelta(days=7))
    author = members_of(council)[0]
    now = clock.now()
    with pytest.raises(Invalid):
        create_proposal(author, council, title="Rushed", deliberation_ends=now + timedelta(hours=1), voting_ends=now + timedelta(days=2))
    with pytest.raises(Invalid):
        create_proposal(author, council, title="Forever", deliberation_ends=now + timedelta(days=1), voting_ends=now + timedelta(days=30))


MAIN_TEXT = "We buy a new oven. It costs 5000. Delivery in May."


def test_adopted_amendment_changes_the_text_that_is_voted(clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    members = members_of(council)
    main = make_proposal(council, members[0], body=MAIN_TEXT)
    amendment = move_amendment(members[1], main, passage="It costs 5000.", replacement="It costs at most 4000.", reason="Cheaper ones exist.")
    rejected = move_amendment(members[2], main, passage="Delivery in May.", replacement="Delivery in June.")
    assert amendment.voting_ends == main.deliberation_ends and amendment.state(clock.now()) == "voting"
    vote_all(amendment, members, "yes")
    vote_all(rejected, members, "no")
    clock.advance(hours=1)  # deliberation ends: amendments are decided first
    cast_ballot(members[0], main, "yes")
    main.refresh_from_db()
    assert main.body == "We buy a new oven. It costs at most 4000. Delivery in May."
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="proposal.amended").count() == 1


def test_author_accepts_an_amendment_into_the_text(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    author, other = members_of(council)
    main = make_proposal(council, author, body=MAIN_TEXT)
    amendment = move_amendment(other, main, passage="in May", replacement="in April")
    with pytest.raises(NotAllowed):
        accept_amendment(other, amendment)
    accept_amendment(author, amendment)
    main.refresh_from_db()
    assert "in April" in main.body and amendment.state(clock.now()) == "accepted"
    clock.advance(hours=1)
    assert get_decision(amendment) is None  # moot: never counted


def test_amendments_must_quote_the_text_and_come_during_deliberation(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    author, other = members_of(council)
    main = make_proposal(council, author, body="A a. B b. A a.")
    with pytest.raises(Invalid):
        move_amendment(other, main, passage="not in the text", replacement="x")
    with pytest.raises(Invalid):
        move_amendment(other, main, passage="A a.", replacement="x")  # ambiguous
    clock.advance(hours=1)
    with pytest.raises(Closed):
        move_amendment(other, main, passage="B b.", replacement="x")


def test_conflicting_adopted_amendments_lapse_in_order(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    members = members_of(council)
    main = make_proposal(council, members[0], body=MAIN_TEXT)
    first = move_amendment(members[1], main, passage="It costs 5000.", replacement="It costs 4000.")
    second = move_amendment(members[1], main, passage="costs 5000", replacement="costs 3000")
    vote_all(first, members)
    vote_all(second, members)
    clock.advance(hours=1)
    settle_due(council)
    main.refresh_from_db()
    assert "It costs 4000." in main.body
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="amendment.lapsed", subject=second.subject).exists()


def elect(clock, council, members, office="facilitator", winner_index=1):
    now = clock.now()
    election = create_proposal(members[0], council, title=f"Elect a {office}", kind="election", office=office,
                               options=[{"member": m.username} for m in members[:3]], deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))
    ids = {o.member_id: o.pk for o in election.options.all()}
    for member in members:
        cast_ballot(member, election, {"ranking": [ids[members[winner_index].pk]]})
    clock.advance(hours=2)
    return get_decision(election)


def test_council_elects_its_facilitator_by_instant_runoff(clock, make_council, members_of):
    council = make_council(members=3)
    members = members_of(council)
    decision = elect(clock, council, members)
    assert decision.winners == [members[1].username]
    assert is_officer(members[1], council) and not is_officer(members[0], council)


def test_candidates_must_be_members(clock, make_council, members_of, make_user):
    council = make_council(members=1)
    with pytest.raises(Invalid):
        create_proposal(members_of(council)[0], council, title="Elect", kind="election", office="secretary",
                        options=[{"member": make_user().username}, {"member": members_of(council)[1].username}])


def test_officer_hides_a_comment_with_a_reason_and_any_member_can_appeal(clock, make_council, members_of, make_proposal):
    council = make_council(members=3)
    members = members_of(council)
    elect(clock, council, members)
    facilitator, writer = members[1], members[2]
    proposal = make_proposal(council, members[0])
    comment = add_comment(writer, proposal, "Something rude.")
    with pytest.raises(NotAllowed):
        hide_comment(members[3], comment, "I dislike it")
    with pytest.raises(Invalid):
        hide_comment(facilitator, comment, "")
    hide_comment(facilitator, comment, "Personal attack")
    appeal = appeal_hidden_comment(writer, comment)
    with pytest.raises(Conflict):
        appeal_hidden_comment(members[3], comment)
    vote_all(appeal, members, "yes")
    clock.advance(days=5)
    settle_due(council)
    comment.refresh_from_db()
    assert comment.hidden_at is None
    kinds = list(RecordEntry.objects.filter(subject=comment.subject).values_list("kind", flat=True))
    assert kinds == ["comment.added", "comment.hidden", "comment.restored"]


def test_officers_cannot_withdraw_a_members_proposal(clock, make_council, members_of, make_proposal):
    """(Every route tried as every role: tests/test_every_route.py.)"""
    council = make_council(members=3)
    members = members_of(council)
    elect(clock, council, members)
    proposal = make_proposal(council, members[0])
    with pytest.raises(NotAllowed):
        withdraw_proposal(members[1], proposal)  # the facilitator is not the author


def test_a_refusal_under_the_floor_says_the_floor_as_a_person_writes_it(clock, make_council, members_of):
    from councils.decisions.services import create_proposal as propose

    council = make_council(members=1, min_deliberation_period=timedelta(days=2), min_voting_period=timedelta(days=1),
                           deliberation_period=timedelta(days=2), voting_period=timedelta(days=1))
    with pytest.raises(Invalid) as refused:
        propose(members_of(council)[0], council, title="Snap", deliberation_ends=clock.now() + timedelta(hours=1),
                voting_ends=clock.now() + timedelta(days=2))
    assert "2 days of deliberation" in refused.value.message and "0:00" not in refused.value.message
