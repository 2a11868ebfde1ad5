from datetime import timedelta

import pytest

from councils.decisions.services import cast_ballot, create_proposal, settle_due
from councils.errors import Invalid
from councils.federation.services import federations_of, member_councils
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def decide(clock, council, proposal, members, choice="yes"):
    clock.advance(hours=1)
    for member in members:
        cast_ballot(member, proposal, choice)
    clock.advance(hours=2)
    settle_due(council)


def test_a_council_joins_a_federation_by_its_own_vote(clock, make_council, members_of, make_proposal):
    federation = make_council(kind="federation")
    council = make_council(members=2)
    proposal = make_proposal(council, kind="affiliation", federation=federation)
    assert list(member_councils(federation)) == []
    decide(clock, council, proposal, members_of(council))
    assert list(member_councils(federation)) == [council]
    assert list(federations_of(council)) == [federation]
    # Both records show it.
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="affiliation.joined").exists()
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="affiliation.joined").exists()


def test_a_rejected_affiliation_changes_nothing(clock, make_council, members_of, make_proposal):
    federation = make_council(kind="federation")
    council = make_council(members=2)
    proposal = make_proposal(council, kind="affiliation", federation=federation)
    decide(clock, council, proposal, members_of(council), "no")
    assert list(member_councils(federation)) == []


def test_a_council_leaves_by_its_own_vote(clock, make_council, members_of, make_proposal):
    federation = make_council(kind="federation")
    council = make_council(members=1)
    decide(clock, council, make_proposal(council, kind="affiliation", federation=federation), members_of(council))
    leaving = make_proposal(council, kind="disaffiliation", federation=federation)
    decide(clock, council, leaving, members_of(council))
    assert list(member_councils(federation)) == []
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="affiliation.left").exists()


def test_affiliation_proposals_must_make_sense(clock, make_council, members_of):
    federation = make_council(kind="federation")
    council = make_council()
    founder = members_of(council)[0]
    with pytest.raises(Invalid):
        create_proposal(founder, council, title="Join", kind="affiliation", federation=None)
    with pytest.raises(Invalid):
        create_proposal(founder, council, title="Join", kind="affiliation", federation=make_council())  # not a federation
    with pytest.raises(Invalid):
        create_proposal(founder, council, title="Leave", kind="disaffiliation", federation=federation)  # not a member
    with pytest.raises(Invalid):
        create_proposal(founder, council, title="Motion", federation=federation)


def test_a_federation_that_admits_by_vote_asks_its_member_councils(clock, make_user, federation_of, make_council, members_of,
                                                                  decide, join_federation):
    from councils.assemblies.services import create_council
    from councils.decisions.models import Proposal

    federation = create_council(make_user(), name="Selective federation", kind="federation", charter={"admission": "vote"},
                                federation_charter={"competences": ["x"]})
    _, (founder_council,) = federation_of([3], federation=federation)  # the first council joins an empty federation at once
    applicant = make_council(members=2)
    join_federation(applicant, federation)  # the applicant's own decision ...
    assert applicant not in member_councils(federation)  # ... is not yet membership
    admission = Proposal.objects.get(council=federation, kind="admission", federation=applicant)
    mandate = Proposal.objects.get(council=founder_council, mandate_for=admission)
    decide(mandate, "yes", close=False)
    clock.set(admission.voting_ends + timedelta(seconds=1))
    settle_due(federation)
    assert applicant in member_councils(federation)
