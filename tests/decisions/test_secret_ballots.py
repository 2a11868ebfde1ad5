"""Secret ballots: no link between voter and ballot in the database; receipts let each voter check their ballot."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection

from councils.cli import main as councils
from councils.decisions.models import SecretBallot, VoterRegister
from councils.decisions.services import cast_ballot, create_proposal, find_receipt, get_decision
from councils.errors import Closed, Conflict, Invalid, NotAllowed
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret_vote(clock, make_council, members_of):
    council = make_council(members=3)
    now = clock.now()
    proposal = create_proposal(members_of(council)[0], council, title="Secret", secret=True, deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))
    return council, proposal


def test_the_database_holds_no_link_between_voter_and_ballot(clock, secret_vote, members_of):
    council, proposal = secret_vote
    voters = members_of(council)
    receipts = [cast_ballot(voter, proposal, "yes") for voter in voters[:2]]
    # The ballot table: no column refers to a user or to a time.
    columns = {f.column for f in SecretBallot._meta.concrete_fields}
    assert columns == {"id", "proposal_id", "receipt", "secret_digest", "choice", "content_json", "reason"}
    user_table = apps.get_model("auth", "User")._meta.db_table
    with connection.cursor() as cursor:
        for relation in connection.introspection.get_relations(cursor, SecretBallot._meta.db_table).values():
            assert relation[1] != user_table
    # Row keys are random, so their order says nothing about the order of voting.
    assert all(len(str(b.pk)) == 36 for b in SecretBallot.objects.all())
    # The register knows who voted, and nothing else.
    # The register knows who voted, and a sealed link no column of the ballots matches (it opens only with a key kept
    # out of the database, so that the count can leave out the ballot of a voter who left before the close).
    assert {f.column for f in VoterRegister._meta.concrete_fields} == {"id", "proposal_id", "voter_id", "registered_at", "link"}
    stored = {value for b in SecretBallot.objects.values_list("receipt", "secret_digest") for value in b}
    assert not stored & set(VoterRegister.objects.values_list("link", flat=True))
    # The record says who voted, not how.
    for entry in RecordEntry.objects.filter(chain=council.record_chain, kind="voter.registered"):
        assert "yes" not in entry.data_json and receipts[0].receipt not in entry.data_json


def test_receipt_shows_the_ballot_as_counted_after_the_close(clock, secret_vote, members_of):
    council, proposal = secret_vote
    ana, bea, cy, dee = members_of(council)
    receipt = cast_ballot(ana, proposal, "no")
    cast_ballot(bea, proposal, "yes")
    with pytest.raises(Closed):
        find_receipt(proposal, receipt.receipt)  # not before the close
    clock.advance(hours=2)
    decision = get_decision(proposal)
    assert (decision.yes, decision.no) == (1, 1)
    assert find_receipt(proposal, receipt.receipt)["choice"] == "no"
    assert find_receipt(proposal, "not-a-receipt") is None


def test_changing_a_secret_ballot_needs_the_voters_secret(clock, secret_vote, members_of):
    council, proposal = secret_vote
    ana, bea = members_of(council)[:2]
    first = cast_ballot(ana, proposal, "no")
    with pytest.raises(Conflict):
        cast_ballot(ana, proposal, "yes")  # no second ballot without the secret
    with pytest.raises(NotAllowed):
        cast_ballot(ana, proposal, "yes", secret="guessed")
    second = cast_ballot(ana, proposal, "yes", secret=first.secret)
    assert second.changed and second.receipt == first.receipt
    assert SecretBallot.objects.filter(proposal=proposal).count() == 1
    with pytest.raises(Invalid):
        cast_ballot(bea, proposal, "yes", secret="made-up")  # bea has not voted yet
    clock.advance(hours=2)
    assert get_decision(proposal).yes == 1


def test_a_changed_secret_ballot_in_the_database_fails_verification(clock, secret_vote, members_of, capsys):
    council, proposal = secret_vote
    cast_ballot(members_of(council)[0], proposal, "no")
    clock.advance(hours=2)
    get_decision(proposal)
    assert councils(["verify"]) == 0
    SecretBallot.objects.update(choice="yes")
    assert councils(["verify"]) == 1
    assert "digest" in capsys.readouterr().err


def test_a_stuffed_secret_ballot_fails_verification(clock, secret_vote, members_of, capsys):
    council, proposal = secret_vote
    cast_ballot(members_of(council)[0], proposal, "no")
    SecretBallot.objects.create(proposal=proposal, receipt="forged", secret_digest="x" * 64, choice="yes")
    assert councils(["verify"]) == 1
    assert "registered voters differ" in capsys.readouterr().err


def test_charter_can_make_every_vote_secret(clock, make_council, members_of):
    council = make_council(secret_ballots=True)
    proposal = create_proposal(members_of(council)[0], council, title="T", secret=False)
    assert proposal.secret
