"""Issue 13, item 2: whoever controls the clock does not control the decision."""

from datetime import timedelta

import pytest

from councils.accounts.models import NotificationKind
from councils.assemblies.services import create_council, join_council
from councils.decisions.notifications import due_notices
from councils.decisions.services import create_proposal, move_amendment, reschedule
from councils.errors import Closed, Invalid, NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(clock, make_user):
    """A council founded with the default charter (the suite's factory sets no floors)."""
    founder = make_user()
    founder.email = f"{founder.username}@example.org"
    founder.save()
    council = create_council(founder, name="Default charter", kind="workplace")
    for _ in range(2):
        member = make_user()
        member.email = f"{member.username}@example.org"
        member.save()
        join_council(member, council)
    return council


def test_the_default_charter_has_floors(council):
    charter = council.charter
    assert charter.min_deliberation_period == timedelta(days=2) and charter.min_voting_period == timedelta(days=1)
    assert charter.max_postponement == timedelta(days=30)


def test_an_author_cannot_open_a_61_second_vote(clock, council):
    author, now = council.memberships.first().member, clock.now()
    with pytest.raises(Invalid) as refused:
        create_proposal(author, council, title="Snap", deliberation_ends=now, voting_ends=now + timedelta(seconds=61))
    assert refused.value.field == "deliberation_ends"
    with pytest.raises(Invalid) as refused:
        create_proposal(author, council, title="Snap", deliberation_ends=now + timedelta(days=2),
                        voting_ends=now + timedelta(days=2, seconds=61))
    assert refused.value.field == "voting_ends"


@pytest.fixture
def proposal(clock, council):
    return create_proposal(council.memberships.first().member, council, title="Buy a van")


def test_a_reschedule_never_shortens_a_period(clock, council, proposal):
    author, now = proposal.author, clock.now()
    # As the tester did: deliberation to end in 2 s, voting in 75 s.
    with pytest.raises(Invalid, match="never shorten"):
        reschedule(author, proposal, deliberation_ends=now + timedelta(seconds=2), voting_ends=now + timedelta(seconds=75))
    with pytest.raises(Invalid, match="never shorten"):
        reschedule(author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=1),
                   voting_ends=proposal.voting_ends + timedelta(hours=1))
    moved = reschedule(author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=1),
                       voting_ends=proposal.voting_ends + timedelta(days=1))
    assert moved.voting_ends - moved.deliberation_ends == council.charter.voting_period


def test_postponing_beyond_the_charters_limit_needs_the_councils_vote(clock, council, proposal):
    author = proposal.author
    with pytest.raises(NotAllowed, match="council's vote"):
        reschedule(author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=200),
                   voting_ends=proposal.voting_ends + timedelta(days=200))
    # Step by step is no way round: the limit counts from the close the proposal was published with.
    reschedule(author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=20),
               voting_ends=proposal.voting_ends + timedelta(days=20))
    with pytest.raises(NotAllowed, match="council's vote"):
        reschedule(author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=20),
                   voting_ends=proposal.voting_ends + timedelta(days=20))


def test_every_reschedule_tells_every_member(clock, council, proposal):
    from councils.decisions.notifications import _claim

    def moved_notices():
        return [n for n in due_notices(clock.now()) if n.kind == NotificationKind.MOVED]

    assert moved_notices() == []
    reschedule(proposal.author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=1),
               voting_ends=proposal.voting_ends + timedelta(days=1))
    first = moved_notices()
    assert len(first) == 3
    for notice in first:
        assert _claim(notice, clock.now())
    assert moved_notices() == []
    clock.advance(hours=1)
    reschedule(proposal.author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=1),
               voting_ends=proposal.voting_ends + timedelta(days=1))
    assert len(moved_notices()) == 3  # told again


def test_an_amendment_cannot_be_moved_too_late_to_be_voted_for_the_charters_minimum(clock, council):
    author = council.memberships.first().member
    proposal = create_proposal(author, council, title="Buy a van", body="Buy a red van.")
    clock.set(proposal.deliberation_ends - timedelta(hours=23))
    with pytest.raises(Closed, match="at least"):
        move_amendment(author, proposal, passage="red", replacement="blue")
    clock.set(proposal.deliberation_ends - timedelta(days=1, minutes=1))
    assert move_amendment(author, proposal, passage="red", replacement="blue").voting_ends == proposal.deliberation_ends


def test_a_charter_cannot_give_rule_opened_votes_less_than_its_floor(make_user):
    with pytest.raises(Invalid) as refused:
        create_council(make_user(), name="Hasty", kind="workplace", charter={"voting_period": timedelta(hours=1)})
    assert refused.value.field == "voting_period"
