from datetime import timedelta

import pytest

from councils.assemblies.models import Membership
from councils.assemblies.permissions import is_member
from councils.assemblies.services import create_council, join_council, leave_council
from councils.decisions.models import Proposal
from councils.decisions.services import cast_ballot, create_proposal, settle_due
from councils.errors import Conflict, Invalid, NotAllowed
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def kinds(council):
    return list(RecordEntry.objects.filter(chain=council.record_chain).order_by("seq").values_list("kind", flat=True))


def test_founder_is_first_member_and_charter_has_defaults(clock, make_user):
    ana = make_user("ana")
    council = create_council(ana, name="Bakery Workers", kind="workplace")
    assert is_member(ana, council)
    assert council.slug == "bakery-workers"
    assert council.charter.admission == "open"
    assert council.charter.decision_method == "majority"
    assert council.charter.voting_period == timedelta(days=4)
    assert kinds(council) == ["council.founded", "charter.adopted", "member.admitted"]


@pytest.mark.parametrize("kind", ["workplace", "neighbourhood", "agricultural", "other"])
def test_every_kind_of_base_council_can_be_founded(clock, make_user, kind):
    assert create_council(make_user(), name=f"A {kind}", kind=kind).kind == kind


def test_same_name_gets_a_distinct_address(clock, make_user):
    first = create_council(make_user(), name="Elm Street", kind="neighbourhood")
    second = create_council(make_user(), name="Elm Street", kind="neighbourhood")
    assert first.slug != second.slug


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": "  ", "kind": "workplace"}, "name"),
        ({"name": "x" * 121, "kind": "workplace"}, "name"),
        ({"name": "A", "kind": "ministry"}, "kind"),
        ({"name": "A", "kind": "workplace", "charter": {"quorum": "1.5"}}, "quorum"),
        ({"name": "A", "kind": "workplace", "charter": {"quorum": "abc"}}, "quorum"),
        ({"name": "A", "kind": "workplace", "charter": {"admission": "appointed"}}, "admission"),
        ({"name": "A", "kind": "workplace", "charter": {"decision_method": "dictator"}}, "decision_method"),
        ({"name": "A", "kind": "workplace", "charter": {"voting_period": timedelta(0)}}, "voting_period"),
        ({"name": "A", "kind": "workplace", "charter": {"president": "me"}}, "president"),
    ],
)
def test_bad_council_input_is_refused_naming_the_field(clock, make_user, kwargs, field):
    with pytest.raises(Invalid) as refused:
        create_council(make_user(), **kwargs)
    assert refused.value.field == field


def test_anonymous_cannot_found_a_council(clock):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAllowed):
        create_council(AnonymousUser(), name="A", kind="workplace")


def test_open_council_admits_at_once(clock, make_council, make_user):
    council = make_council()
    bea = make_user()
    membership = join_council(bea, council)
    assert isinstance(membership, Membership) and is_member(bea, council)
    assert kinds(council)[-1] == "member.admitted"


def test_joining_twice_is_refused(clock, make_council, make_user):
    council = make_council()
    bea = make_user()
    join_council(bea, council)
    with pytest.raises(Conflict):
        join_council(bea, council)


def test_admission_by_vote_opens_a_vote_and_admits_when_adopted(clock, make_council, make_user, members_of):
    council = make_council(members=2, admission="vote", voting_period=timedelta(hours=6))
    applicant = make_user()
    request = join_council(applicant, council)
    assert isinstance(request, Proposal) and request.kind == "admission"
    assert request.state(clock.now()) == "voting"
    assert not is_member(applicant, council)
    with pytest.raises(Conflict):
        join_council(applicant, council)  # the same request twice
    for member in members_of(council):
        cast_ballot(member, request, "yes")
    clock.advance(hours=6)
    settle_due(council)
    membership = Membership.objects.get(council=council, member=applicant)
    assert membership.joined_at == request.voting_ends  # effective at the close, not when someone looked


def test_admission_rejected_by_vote_leaves_applicant_outside(clock, make_council, make_user, members_of):
    council = make_council(members=2, admission="vote", voting_period=timedelta(hours=6))
    applicant = make_user()
    request = join_council(applicant, council)
    for member in members_of(council):
        cast_ballot(member, request, "no")
    clock.advance(hours=7)
    settle_due(council)
    assert not is_member(applicant, council)
    assert request.decision.outcome == "rejected"


def test_leaving_is_immediate_and_recorded(clock, make_council, make_user):
    council = make_council()
    bea = make_user()
    join_council(bea, council)
    leave_council(bea, council)
    assert not is_member(bea, council)
    assert kinds(council)[-1] == "member.left"
    with pytest.raises(NotAllowed):
        leave_council(bea, council)


def test_a_member_can_leave_and_join_again(clock, make_council, make_user):
    council = make_council()
    bea = make_user()
    join_council(bea, council)
    leave_council(bea, council)
    join_council(bea, council)
    assert is_member(bea, council)


def test_no_one_can_remove_a_member_but_the_council_by_vote(clock, make_council, make_user, members_of, make_proposal):
    council = make_council(members=3)
    founder, *others = members_of(council)
    target = others[0]
    removal = make_proposal(council, founder, kind="removal", subject_member=target, title="Remove a member")
    assert is_member(target, council)  # a proposal is not a removal
    clock.advance(hours=1)
    for member in members_of(council):
        cast_ballot(member, removal, "no" if member == target else "yes")
    clock.advance(hours=2)
    settle_due(council)
    assert not is_member(target, council)
    assert kinds(council)[-1] == "member.removed"


def test_removal_needs_a_current_member(clock, make_council, make_user, members_of):
    council = make_council(members=1)
    with pytest.raises(Invalid):
        create_proposal(members_of(council)[0], council, title="Remove", kind="removal", subject_member=make_user())


def test_a_person_cannot_join_a_federation(clock, make_council, make_user):
    federation = make_council(kind="federation")
    with pytest.raises(NotAllowed):
        join_council(make_user(), federation)
