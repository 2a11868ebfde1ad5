"""Acts that cannot be undone ask first; an author may withdraw until the vote closes."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from councils.decisions.services import cast_ballot, get_decision, withdraw_proposal
from councils.errors import Closed
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_author_withdraws_during_the_vote_ballots_are_void_and_voters_told(clock, make_council, members_of, make_proposal,
                                                                          django_capture_on_commit_callbacks):
    council = make_council(members=3)
    author, *voters = members_of(council)
    for i, voter in enumerate(voters):
        voter.email = f"voter{i}@example.org"
        voter.save()
    proposal = make_proposal(council, author, title="Paint it red", deliberation=timedelta(0))
    for voter in voters:
        cast_ballot(voter, proposal, "yes")
    url = reverse("proposal-withdraw", args=[council.slug, proposal.pk])
    confirm = client_for(author).get(url).content.decode()
    assert "cannot be undone" in confirm and "3 ballots already cast will be void" in confirm
    proposal.refresh_from_db()
    assert proposal.withdrawn_at is None  # asking is not doing
    with django_capture_on_commit_callbacks(execute=True):  # the voters are told once the withdrawal is committed
        page = client_for(author).post(url, follow=True).content.decode()
    assert "The proposal is withdrawn" in page and "the ballots cast are void" in page
    clock.advance(days=5)
    assert get_decision(proposal) is None  # never counted
    entry = RecordEntry.objects.filter(kind="proposal.withdrawn").latest("seq")
    assert "3 ballot(s) void" in entry.data["reason"]
    told = sorted(m.to[0] for m in mail.outbox)
    assert told == ["voter0@example.org", "voter1@example.org", "voter2@example.org"]
    assert "your ballot is void" in mail.outbox[0].subject


def test_a_decided_proposal_cannot_be_withdrawn(clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    author = members_of(council)[0]
    proposal = make_proposal(council, author, deliberation=timedelta(0))
    clock.advance(days=3)
    with pytest.raises(Closed):
        withdraw_proposal(author, proposal)


def test_leaving_asks_first(clock, make_council, members_of):
    council = make_council(members=2)
    member = members_of(council)[1]
    url = reverse("council-leave", args=[council.slug])
    assert 'href="' + url in client_for(member).get(council.get_absolute_url()).content.decode()
    page = client_for(member).get(url).content.decode()
    assert "cannot be undone" in page and "Leave the council" in page
    assert council.memberships.filter(member=member, left_at__isnull=True).exists()
    client_for(member).post(url)
    assert not council.memberships.filter(member=member, left_at__isnull=True).exists()


def test_a_too_long_comment_is_told_so(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    member = members_of(council)[0]
    proposal = make_proposal(council, member)
    page = client_for(member).post(reverse("proposal-comment", args=[council.slug, proposal.pk]),
                                   {"body": "x" * 20_001}, HTTP_REFERER=proposal.get_absolute_url(), follow=True).content.decode()
    assert "at most 20000 characters" in page and "cannot be empty" not in page
