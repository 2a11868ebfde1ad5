"""Issue 13, item 9: one recall at a time per delegate."""

from datetime import timedelta

import pytest

from councils.decisions.models import Proposal
from councils.errors import Conflict
from councils.federation.services import current_delegates, open_recall_petition, sign_recall

pytestmark = pytest.mark.django_db


def test_no_second_recall_petition_while_a_recall_vote_is_open(clock, federation_of, members_of, decide):
    federation, (bakery,) = federation_of([10])
    (delegate,) = current_delegates(bakery, federation)
    members = members_of(bakery)
    petition = open_recall_petition(members[1], delegate)
    sign_recall(members[2], petition)
    petition.refresh_from_db()
    assert petition.vote is not None
    # The delegate themself (or anyone) tries to split the vote with a parallel recall.
    with pytest.raises(Conflict, match="already open"):
        open_recall_petition(delegate.member, delegate)
    with pytest.raises(Conflict, match="already open"):
        open_recall_petition(members[3], delegate)
    assert Proposal.objects.filter(kind="recall", delegate=delegate).count() == 1
    # Once that vote is decided (kept, here), a new petition may be opened.
    decide(petition.vote, ["no"] * 10)
    delegate.refresh_from_db()
    clock.advance(minutes=1)
    assert open_recall_petition(members[4], delegate).vote is None
