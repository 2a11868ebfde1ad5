"""Idempotency keys on ballots: a retried request is answered with the first answer and never applied twice."""

import json
import threading
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts.models import IdempotencyKey
from councils.accounts.services import create_token
from councils.decisions.models import Ballot
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def vote(clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    founder, member, _ = members_of(council)
    proposal = make_proposal(council, founder, deliberation=timedelta(0))
    return proposal, member


def client_for(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'test')[1]}")


def put_ballot(client, proposal, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.put(f"/api/proposals/{proposal.pk}/ballot", json.dumps(body), content_type="application/json", **headers)


def test_a_repeated_request_is_answered_the_same_and_recorded_once(vote):
    proposal, member = vote
    client = client_for(member)
    first = put_ballot(client, proposal, {"choice": "yes"}, key="k-1")
    entries = RecordEntry.objects.count()
    again = put_ballot(client, proposal, {"choice": "yes"}, key="k-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert RecordEntry.objects.count() == entries
    assert IdempotencyKey.objects.filter(user=member).count() == 1


def test_a_late_retry_does_not_undo_a_later_ballot(vote):
    """Yes (answer lost), then no, then the client's retry of yes: the ballot stays no."""
    proposal, member = vote
    client = client_for(member)
    put_ballot(client, proposal, {"choice": "yes"}, key="first")
    put_ballot(client, proposal, {"choice": "no"}, key="second")
    entries = RecordEntry.objects.count()
    retry = put_ballot(client, proposal, {"choice": "yes"}, key="first")
    assert retry.status_code == 200 and retry.json()["choice"] == "yes"  # the first answer, replayed
    assert Ballot.objects.get(proposal=proposal, voter=member).choice == "no"
    assert RecordEntry.objects.count() == entries


def test_a_key_reused_for_another_request_is_refused(vote):
    proposal, member = vote
    client = client_for(member)
    put_ballot(client, proposal, {"choice": "yes"}, key="same")
    entries = RecordEntry.objects.count()
    response = put_ballot(client, proposal, {"choice": "no"}, key="same")
    assert response.status_code == 422 and "different request" in response.json()["detail"]
    assert Ballot.objects.get(proposal=proposal, voter=member).choice == "yes"
    assert RecordEntry.objects.count() == entries


def test_keys_belong_to_one_member(vote, members_of):
    proposal, member = vote
    founder = members_of(proposal.council)[0]
    put_ballot(client_for(member), proposal, {"choice": "yes"}, key="shared")
    response = put_ballot(client_for(founder), proposal, {"choice": "yes"}, key="shared")
    assert response.status_code == 200 and response.json()["voter"] == founder.username
    assert "Idempotent-Replayed" not in response
    assert Ballot.objects.filter(proposal=proposal).count() == 2


def test_a_refusal_is_not_kept_and_writes_nothing(vote, make_user):
    proposal, _ = vote
    outsider = make_user()
    client = client_for(outsider)
    entries = RecordEntry.objects.count()
    assert put_ballot(client, proposal, {"choice": "yes"}, key="nope").status_code == 403
    assert put_ballot(client, proposal, {"choice": "maybe"}, key="bad").status_code == 422
    assert not IdempotencyKey.objects.exists() and RecordEntry.objects.count() == entries


def test_a_refusal_can_be_retried_with_the_same_key_once_allowed(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    founder, member = members_of(council)
    proposal = make_proposal(council, founder, deliberation=timedelta(hours=1))
    client = client_for(member)
    assert put_ballot(client, proposal, {"choice": "yes"}, key="early").status_code == 409  # still in deliberation
    clock.advance(hours=1, minutes=1)
    assert put_ballot(client, proposal, {"choice": "yes"}, key="early").status_code == 200


@pytest.mark.parametrize("key", ["", " ", "a b", "é", "x" * 256])
def test_malformed_keys_are_refused(vote, key):
    proposal, member = vote
    response = put_ballot(client_for(member), proposal, {"choice": "yes"}, key=key)
    assert response.status_code == 422 and "detail" in response.json()
    assert not Ballot.objects.filter(proposal=proposal, voter=member).exists()


def test_without_a_key_the_endpoint_works_as_before(vote):
    proposal, member = vote
    client = client_for(member)
    assert put_ballot(client, proposal, {"choice": "yes"}).status_code == 200
    assert put_ballot(client, proposal, {"choice": "no"}).json()["choice"] == "no"
    assert not IdempotencyKey.objects.exists()


def test_a_secret_ballots_receipt_is_never_stored_with_its_voter(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    founder, member = members_of(council)
    proposal = make_proposal(council, founder, deliberation=timedelta(0), secret=True)
    client = client_for(member)
    first = put_ballot(client, proposal, {"choice": "yes"}, key="secret-1")
    assert first.status_code == 200 and first.json()["secret"]
    assert not IdempotencyKey.objects.exists()
    # The retry cannot cast a second ballot: the voter is registered.
    assert put_ballot(client, proposal, {"choice": "yes"}, key="secret-1").status_code == 409
    assert proposal.secret_ballots.count() == 1


def test_a_copy_that_loses_the_race_is_rolled_back_whole_and_answered_with_the_winners_answer(vote, monkeypatch):
    """The moment two copies of one request race: the loser did not see the winner's key when it looked, did the act,
    and then trips the unique constraint when storing the key. Its act must be rolled back with it."""
    from councils.accounts import idempotency

    proposal, member = vote
    client = client_for(member)
    winner = put_ballot(client, proposal, {"choice": "no"}, key="race")
    entries = RecordEntry.objects.count()
    Ballot.objects.filter(proposal=proposal, voter=member).delete()  # as if the winner had not committed yet ...
    looked = []

    def blind(user, key, digest):  # ... when the loser looked
        looked.append(key)
        return None if len(looked) == 1 else real(user, key, digest)

    real = idempotency._stored
    monkeypatch.setattr(idempotency, "_stored", blind)
    loser = put_ballot(client, proposal, {"choice": "no"}, key="race")
    assert loser.status_code == 200 and loser.content == winner.content and loser["Idempotent-Replayed"] == "true"
    assert not Ballot.objects.filter(proposal=proposal, voter=member).exists()  # the loser's ballot.cast was rolled back
    assert RecordEntry.objects.count() == entries and IdempotencyKey.objects.filter(key="race").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_one_request_are_applied_once(clock, make_council, members_of, make_proposal):
    from django.db import connection

    if connection.vendor == "sqlite":
        # The suite's SQLite test database is a shared in-memory one whose table locks fail concurrent threads
        # outright; SQLite serialises writers anyway. Its concurrency is exercised against a real server by
        # test_faults.py, and the race's outcome by the test above; the threads race on PostgreSQL.
        return
    council = make_council(members=1)
    founder, member = members_of(council)
    proposal = make_proposal(council, founder, deliberation=timedelta(0))
    token = create_token(member, "race")[1]
    answers, barrier = [], threading.Barrier(6)

    def send(choice):
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait(10)
            answers.append(put_ballot(client, proposal, {"choice": choice}, key="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=("no",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.content for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a for a in answers) >= 1
    assert IdempotencyKey.objects.filter(user=member, key="race").count() == 1
    assert RecordEntry.objects.filter(kind="ballot.cast", actor=member.username).count() == 1
    assert not RecordEntry.objects.filter(kind="ballot.changed", actor=member.username).exists()
