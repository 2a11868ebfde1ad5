"""Federation across servers: signed messages between two server identities, in one process.

The two servers share this test's database (two test databases in one Django process is not practical), but each
has its own name, key and address: every message is signed by one identity, goes through the other's inbox exactly
as over HTTP (``InProcess`` below calls ``remote.receive`` with the URL, headers and bytes), and is checked against
the key the receiving side pinned when its operator added the peer. tests/cli/test_peer_servers.py does the same
over real HTTP between two ``councils serve`` processes.
"""

import contextlib
import json
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import override_settings

from councils.federation import remote, wire
from councils.federation.models import (
    Affiliation,
    InboxMessage,
    OutboxMessage,
    OutboxStatus,
)
from councils.federation.services import federations_of, member_councils
from councils.record import log
from councils.record import statement as st
from councils.record.models import RecordEntry
from councils.record.services import moved_to, verify_all

pytestmark = pytest.mark.django_db

A, B = "http://a.example", "http://b.example"


@pytest.fixture
def servers(tmp_path):
    """Two server identities (name, key file, address) and an in-process transport between them."""
    identities = {A: {"COUNCILS_SERVER_NAME": "a.example", "COUNCILS_SERVER_KEY_FILE": str(tmp_path / "a_key"), "SITE_URL": A},
                  B: {"COUNCILS_SERVER_NAME": "b.example", "COUNCILS_SERVER_KEY_FILE": str(tmp_path / "b_key"), "SITE_URL": B}}

    @contextlib.contextmanager
    def acting_as(url):
        with override_settings(**identities[url]):
            yield

    class InProcess:
        def get_json(self, url):
            base = url[: -len(remote.WELL_KNOWN)]
            with acting_as(base):
                return json.loads(json.dumps(remote.server_document()))

        def post(self, url, headers, body):
            base = url[: -len(remote.INBOX)]
            with acting_as(base):
                return remote.receive("POST", url, dict(headers), body)

    remote.use_transport(InProcess())
    yield acting_as
    remote.use_transport(None)


@pytest.fixture
def federation_b(make_user, clock):
    from councils.assemblies.services import create_council

    return create_council(make_user(), name="River Federation", kind="federation",
                          charter={"min_deliberation_period": timedelta(0), "min_voting_period": timedelta(0)},
                          federation_charter={"competences": ["water"]})


@pytest.fixture
def peered(servers, federation_b, clock):
    """A and B have added each other; A knows B's federation (a stand-in row)."""
    with servers(A):
        peer_b, _ = remote.add_peer(B)
    with servers(B):
        peer_a, _ = remote.add_peer(A)
    stand_in = peer_b.councils.get(remote_slug=federation_b.slug).council
    return peer_a, peer_b, stand_in


def _deliver(servers, sender, peer):
    with servers(sender):
        return remote.deliver_due(peers=[peer])


def _join(servers, make_proposal, decide, council, federation):
    proposal = make_proposal(council, kind="affiliation", federation=federation, title="Join the river federation")
    with servers(A):  # the vote closes on A: A's rules apply its decision and sign the request
        decision = decide(proposal, "yes")
    assert decision.outcome == "adopted"
    return decision


# ----- keys and the well-known document -----------------------------------------------------------------------------


def test_the_well_known_document_names_the_server_and_its_checkpoint_key(client, federation_b):
    answer = client.get("/.well-known/councils-server").json()
    assert answer["name"] == log.server_name() and answer["vkey"] == log.server_vkey()
    assert answer["key_id"] == wire.key_id_of(answer["vkey"])
    assert answer["inbox"].endswith("/api/federation/inbox")
    assert {"slug": federation_b.slug, "name": "River Federation"} in answer["federations"]


def test_adding_a_peer_pins_its_key_and_a_changed_key_is_refused(servers, federation_b, clock, tmp_path):
    from councils.errors import Conflict

    with servers(A):
        peer, created = remote.add_peer(B + "/")
        assert created and peer.name == "b.example" and peer.url == B
        assert peer.councils.get().council.name == "River Federation"  # its federation, known here by a stand-in
        assert remote.add_peer(B) == (peer, False)
    (tmp_path / "b_key").unlink()  # B's operator makes a new key: A refuses to follow silently
    log._signer_for.cache_clear()
    with servers(A), pytest.raises(Conflict):
        remote.add_peer(B)


# ----- one flow end to end: joining a federation on another server, and leaving it ---------------------------------


def test_a_council_joins_a_federation_on_another_server_by_its_own_decision(
        client, servers, peered, clock, make_council, make_proposal, decide, federation_b):
    peer_a, peer_b, stand_in = peered
    council = make_council(members=2)  # on A
    decision = _join(servers, make_proposal, decide, council, stand_in)
    assert list(federations_of(council)) == []  # the decision is a request: B's rule decides
    request = OutboxMessage.objects.get(peer=peer_b, type="affiliation.request")
    body = json.loads(request.body)
    assert body["payload"]["decision"]["id"] == decision.pk and body["from"] == "a.example"
    carried = [json.loads(a["statement"])["act"] for a in body["acts"]]
    assert carried[0] == "affiliation.request" and carried.count("ballot.cast") == 3  # the members' own signatures (founder + 2)

    assert _deliver(servers, A, peer_b).delivered == 1  # A -> B: admitted by B's open admission rule
    joined = Affiliation.objects.get(federation=federation_b)
    entry = RecordEntry.objects.get(chain=federation_b.record_chain, kind="affiliation.joined")
    assert entry.data["members_acts_checked"] == len(carried) - 1
    assert joined.council.remote.peer == peer_a and joined.council.remote.remote_slug == council.slug
    assert joined.council in member_councils(federation_b)
    assert _deliver(servers, B, peer_a).delivered == 1  # B -> A: the answer
    assert list(federations_of(council)) == [stand_in]
    page = client.get(f"/c/{federation_b.slug}/").content.decode()
    assert f"{council.name}</a> <span class=\"muted\">on a.example</span>" in page  # each member council's server
    page = client.get(f"/c/{council.slug}/").content.decode()
    assert "affiliation.request</code> to b.example" in page and "delivered" in page
    entry = RecordEntry.objects.get(chain=council.record_chain, kind="affiliation.joined")
    assert "affiliation.admitted" in entry.data["act"]  # B's signed act, kept in A's record

    # A message delivered again (a lost answer, a retry) is applied once.
    request.status = OutboxStatus.PENDING
    request.save()
    with servers(A):
        remote.deliver_due(peers=[peer_b])
    request.refresh_from_db()
    assert request.status == OutboxStatus.DELIVERED and "duplicate" not in request.last_error
    assert Affiliation.objects.filter(federation=federation_b).count() == 1
    assert OutboxMessage.objects.filter(peer=peer_a, type="affiliation.admitted").count() == 1

    # Leaving is the council's own decision, effective at once here, and the federation is told.
    leaving = make_proposal(council, kind="disaffiliation", federation=stand_in, title="Leave")
    with servers(A):
        decide(leaving, "yes")
    assert list(federations_of(council)) == []
    assert _deliver(servers, A, peer_b).delivered == 1
    assert list(member_councils(federation_b)) == []
    # Each server's chains verify with its own key (rule acts signed by it), the messages' rows included.
    with servers(A):
        report = verify_all([council, stand_in])
    assert report.ok, report.problems[:3]
    with servers(B):
        report = verify_all([federation_b, joined.council])
    assert report.ok, report.problems[:3]


def test_a_federation_that_admits_by_vote_refuses_for_now_and_the_sender_shows_it(
        client, servers, peered, clock, make_council, make_proposal, decide, federation_b, join_federation):
    peer_a, peer_b, stand_in = peered
    federation_b.charter.admission = "vote"
    federation_b.charter.save()
    join_federation(make_council(members=1), federation_b)  # a first member on B: admission is now by vote
    council = make_council(members=1)
    _join(servers, make_proposal, decide, council, stand_in)
    assert _deliver(servers, A, peer_b).failed == 1
    failed = OutboxMessage.objects.get(peer=peer_b, type="affiliation.request")
    assert failed.status == OutboxStatus.FAILED and "vote" in failed.last_error
    assert list(remote.undeliverable()) == [failed]
    page = client.get(f"/c/{council.slug}/").content.decode()
    assert "cannot be delivered" in page and "admits councils by its members&#x27; vote" in page
    assert "admits councils by its members&#x27; vote" in client.get("/servers/").content.decode()
    assert not Affiliation.objects.filter(council__remote__peer=peer_a).exists()


# ----- delivery that loses nothing ----------------------------------------------------------------------------------


class Down:
    def __init__(self):
        self.calls = 0

    def post(self, url, headers, body):
        self.calls += 1
        raise ConnectionRefusedError("connection refused")


def test_a_server_that_is_down_gets_its_messages_in_order_with_backoff_when_it_comes_back(servers, peered, clock):
    peer_a, peer_b, _ = peered
    with servers(A):
        first, second = remote.ping(peer_b), remote.ping(peer_b)
        working = remote.transport()
        down = Down()
        remote.use_transport(down)
        report = remote.deliver_due(peers=[peer_b])
        assert (report.retrying, down.calls) == (1, 1)  # the second waits behind the first
        first.refresh_from_db()
        assert first.attempts == 1 and first.next_attempt_at == clock.now() + timedelta(seconds=30)
        remote.deliver_due(peers=[peer_b])
        assert down.calls == 1  # not yet due
        clock.advance(seconds=31)
        remote.deliver_due(peers=[peer_b])
        first.refresh_from_db()
        assert first.attempts == 2 and first.next_attempt_at == clock.now() + timedelta(minutes=1)
        remote.use_transport(working)
        clock.advance(minutes=2)
        assert remote.deliver_due(peers=[peer_b]).delivered == 2
    received = list(InboxMessage.objects.filter(peer=peer_a).values_list("message_id", flat=True))
    assert received == [first.message_id, second.message_id]


def test_a_message_that_never_gets_through_is_marked_failed(servers, peered, clock):
    _, peer_b, _ = peered
    with servers(A):
        message = remote.ping(peer_b)
        remote.use_transport(Down())
        for _ in range(remote.MAX_ATTEMPTS):
            remote.deliver_due(peers=[peer_b])
            clock.advance(hours=7)
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and message.attempts == remote.MAX_ATTEMPTS
    assert "connection refused" in message.last_error


def test_backoff_doubles_up_to_six_hours():
    assert [remote.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert remote.backoff(40) == timedelta(hours=6)


# ----- refusals: nothing applied, a clear 4xx JSON each -----------------------------------------------------------


def _message(servers, sender, recipient_name, *, acts=None, type="ping", payload=None, message_id=None):
    with servers(sender):
        return wire.canonical(wire.envelope(message_id=message_id or uuid.uuid4().hex, type=type,
                                            sender=log.server_name(), recipient=recipient_name,
                                            at=st.parse_time(st.format_time(remote.clock.now())),
                                            payload=payload or {}, acts=acts or []))


def _signed(servers, sender, body, *, key=None, created=None, url=B + remote.INBOX):
    with servers(sender):
        private = key or Ed25519PrivateKey.from_private_bytes(log.server_signer().seed)
        return wire.sign_request(url, body, private, wire.key_id_of(log.server_vkey()), created or remote.clock.now())


def _post_to_b(servers, headers, body, url=B + remote.INBOX):
    with servers(B):
        return remote.receive("POST", url, headers, body)


def test_a_signed_message_from_a_peer_is_accepted(servers, peered, clock):
    body = _message(servers, A, "b.example")
    status, answer = _post_to_b(servers, _signed(servers, A, body), body)
    assert (status, answer["status"], answer["pong"]) == (200, "applied", "b.example")


@pytest.mark.parametrize("spoil", ["unsigned", "wrong_key", "tampered_body", "other_url", "stale", "not_canonical"])
def test_a_badly_signed_message_is_refused_and_nothing_is_applied(servers, peered, clock, spoil):
    body = _message(servers, A, "b.example")
    headers = _signed(servers, A, body)
    if spoil == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif spoil == "wrong_key":
        headers = _signed(servers, A, body, key=Ed25519PrivateKey.generate())
    elif spoil == "tampered_body":
        body = body.replace(b'"payload":{}', b'"payload":{"x":1}')
    elif spoil == "other_url":
        headers = _signed(servers, A, body, url=B + "/api/federation/inbox?other")
    elif spoil == "stale":
        headers = _signed(servers, A, body, created=clock.now() - timedelta(minutes=6))
    elif spoil == "not_canonical":
        body = json.dumps(json.loads(body), indent=1).encode()
        headers = _signed(servers, A, body)
    status, answer = _post_to_b(servers, headers, body)
    expected = {"unsigned": (401, "unsigned"), "wrong_key": (401, "bad_signature"), "tampered_body": (400, "bad_digest"),
                "other_url": (401, "bad_signature"), "stale": (401, "stale"), "not_canonical": (400, "not_canonical")}
    assert (status, answer["code"]) == expected[spoil] and answer["detail"]
    assert not InboxMessage.objects.exists()


def test_a_replayed_message_is_refused_and_applied_once(servers, peered, clock):
    body = _message(servers, A, "b.example")
    headers = _signed(servers, A, body)
    assert _post_to_b(servers, headers, body)[0] == 200
    status, answer = _post_to_b(servers, headers, body)
    assert (status, answer["code"]) == (409, "duplicate")
    assert InboxMessage.objects.count() == 1


def test_a_message_from_a_server_that_is_not_a_peer_is_refused(servers, peered, clock, tmp_path):
    with override_settings(COUNCILS_SERVER_NAME="c.example", COUNCILS_SERVER_KEY_FILE=str(tmp_path / "c_key"),
                           SITE_URL="http://c.example"):
        seed = log.server_signer().seed
        vkey = log.server_vkey()
        body = wire.canonical(wire.envelope(message_id=uuid.uuid4().hex, type="ping", sender="c.example",
                                            recipient="b.example", at=clock.now(), payload={}, acts=[]))
        headers = wire.sign_request(B + remote.INBOX, body, Ed25519PrivateKey.from_private_bytes(seed),
                                    wire.key_id_of(vkey), clock.now())
    status, answer = _post_to_b(servers, headers, body)
    assert (status, answer["code"]) == (403, "unknown_sender")
    assert not InboxMessage.objects.exists()


def test_a_message_signed_by_one_peer_in_another_peers_name_is_refused(servers, peered, clock):
    body = _message(servers, A, "b.example").replace(b'"from":"a.example"', b'"from":"c.example"')
    status, answer = _post_to_b(servers, _signed(servers, A, body), body)
    assert (status, answer["code"]) == (403, "not_the_sender")


def test_an_act_whose_signature_does_not_verify_is_refused(servers, peered, clock, federation_b):
    member_key = st.generate_private_key()
    statement = st.Statement(act="affiliation.request", council="far-council", object=f"federation:{federation_b.slug}",
                             at=st.format_time(clock.now()), key=st.key_id(st.public_key_of(member_key)), content={})
    act = wire.sign_act(statement, member_key)
    act["signature"] = wire.sign_act(statement, member_key)["signature"][:-4] + "AAAA"
    payload = {"council": {"slug": "far-council", "name": "Far", "kind": "workplace"}, "federation": federation_b.slug}
    body = _message(servers, A, "b.example", type="affiliation.request", payload=payload, acts=[act])
    status, answer = _post_to_b(servers, _signed(servers, A, body), body)
    assert (status, answer["code"]) == (403, "bad_act_signature")
    assert not Affiliation.objects.filter(federation=federation_b).exists() and not InboxMessage.objects.exists()


def test_an_act_signed_by_a_key_that_is_not_the_senders_server_key_is_refused(servers, peered, clock, federation_b):
    someone = st.generate_private_key()
    payload = {"council": {"slug": "far-council", "name": "Far", "kind": "workplace"}, "federation": federation_b.slug}
    statement = st.Statement(act="affiliation.request", council="far-council", object=f"federation:{federation_b.slug}",
                             at=st.format_time(clock.now()), key=st.key_id(st.public_key_of(someone)), content=payload)
    body = _message(servers, A, "b.example", type="affiliation.request", payload=payload,
                    acts=[wire.sign_act(statement, someone)])
    status, answer = _post_to_b(servers, _signed(servers, A, body), body)
    assert (status, answer["code"]) == (403, "bad_act_signature")
    assert not Affiliation.objects.filter(federation=federation_b).exists() and not InboxMessage.objects.exists()


NEW_HOME = "http://c.example"


def _move_away(servers, make_proposal, decide, council):
    """``council`` (on A) decides by its own vote to move to another server (docs/free-exit.md)."""
    proposal = make_proposal(council, kind="move", title="Move to c.example", payload={"destination": NEW_HOME})
    with servers(A):
        assert decide(proposal, "yes").outcome == "adopted"
    assert moved_to(council) == NEW_HOME


def test_a_message_for_a_council_that_has_moved_is_refused(
        servers, peered, clock, make_council, make_proposal, decide, federation_b):
    peer_a, peer_b, stand_in = peered
    council = make_council(members=1)  # on A
    _join(servers, make_proposal, decide, council, stand_in)
    assert _deliver(servers, A, peer_b).delivered == 1  # B admits it; its answer waits in B's outbox
    _move_away(servers, make_proposal, decide, council)  # ... and the council moves away from A before it arrives
    answer_message = OutboxMessage.objects.get(peer=peer_a, type="affiliation.admitted")
    body = answer_message.body.encode()
    with servers(A):
        status, answer = remote.receive("POST", A + remote.INBOX, _signed(servers, B, body, url=A + remote.INBOX), body)
    assert (status, answer["code"], answer["location"]) == (410, "moved", NEW_HOME) and NEW_HOME in answer["detail"]
    assert list(federations_of(council)) == [] and not InboxMessage.objects.filter(peer=peer_b).exists()
    assert not RecordEntry.objects.filter(chain=council.record_chain, kind="affiliation.joined").exists()
    assert _deliver(servers, B, peer_a).failed == 1  # B's worker: a refusal A will repeat, failed at once
    answer_message.refresh_from_db()
    assert answer_message.status == OutboxStatus.FAILED and answer_message.attempts == 1
    assert NEW_HOME in answer_message.last_error


def test_a_member_council_that_moves_away_tells_its_federation_on_the_other_server(
        servers, peered, clock, make_council, make_proposal, decide, federation_b):
    peer_a, peer_b, stand_in = peered
    council = make_council(members=1)
    _join(servers, make_proposal, decide, council, stand_in)
    assert _deliver(servers, A, peer_b).delivered == 1 and _deliver(servers, B, peer_a).delivered == 1
    assert list(federations_of(council)) == [stand_in]
    _move_away(servers, make_proposal, decide, council)
    told = OutboxMessage.objects.get(peer=peer_b, type="affiliation.moved")
    assert json.loads(told.body)["payload"]["destination"] == NEW_HOME
    assert _deliver(servers, A, peer_b).delivered == 1  # the move's own message leaves although the council moved
    entry = RecordEntry.objects.get(chain=federation_b.record_chain, kind="affiliation.moved")
    assert entry.data["destination"] == NEW_HOME and entry.data["server"] == "a.example"
    assert "affiliation.moved" in entry.data["act"]  # A's signed act, kept in B's record
    assert Affiliation.objects.get(federation=federation_b).left_at is None  # leaving is a decision of its own
    with servers(B):
        report = verify_all([federation_b])
    assert report.ok, report.problems[:3]


def test_a_council_that_has_moved_sends_nothing_more(servers, peered, clock, make_council, make_proposal, decide,
                                                     federation_b):
    from django.db import transaction

    from councils.errors import Gone

    _, peer_b, stand_in = peered
    council = make_council(members=1)
    _join(servers, make_proposal, decide, council, stand_in)  # the request is written, not yet delivered
    _move_away(servers, make_proposal, decide, council)
    assert _deliver(servers, A, peer_b).failed == 1  # not sent: the council's acts are no longer A's to carry
    request = OutboxMessage.objects.get(peer=peer_b, type="affiliation.request")
    assert request.status == OutboxStatus.FAILED and request.attempts == 0 and NEW_HOME in request.last_error
    assert not InboxMessage.objects.exists() and not Affiliation.objects.filter(federation=federation_b).exists()
    with servers(A), transaction.atomic(), pytest.raises(Gone):
        remote.send(peer_b, "ping", {}, [], clock.now(), council)


def test_the_inbox_answers_json_to_a_plain_get_and_to_an_unsigned_post(client):
    assert client.get("/api/federation/inbox").status_code == 405
    answer = client.post("/api/federation/inbox", data=b"{}", content_type="application/json")
    assert answer.status_code == 401 and answer.json()["code"] == "unsigned"


def test_a_request_carrying_a_members_ballot_whose_signature_does_not_verify_is_refused(
        servers, peered, clock, make_council, make_proposal, decide, federation_b):
    _, peer_b, stand_in = peered
    council = make_council(members=2)
    _join(servers, make_proposal, decide, council, stand_in)
    message = json.loads(OutboxMessage.objects.get(peer=peer_b, type="affiliation.request").body)
    ballot = next(a for a in message["acts"] if '"ballot.cast"' in a["statement"])
    ballot["statement"] = ballot["statement"].replace('"yes"', '"no"')  # a ballot changed on the way
    body = wire.canonical(message)
    status, answer = _post_to_b(servers, _signed(servers, A, body), body)
    assert (status, answer["code"]) == (403, "bad_act_signature")
    assert not Affiliation.objects.filter(federation=federation_b).exists() and not InboxMessage.objects.exists()


def test_a_federations_question_goes_down_to_a_council_on_another_server_and_its_mandate_comes_back_up(
        servers, peered, clock, make_council, make_proposal, decide, federation_b, federation_of, members_of):
    from councils.decisions.models import Proposal
    from councils.decisions.services import get_decision
    from councils.federation.models import FederationBallot, RemoteMandate
    from councils.federation.services import create_federation_proposal

    peer_a, peer_b, stand_in = peered
    _, (home,) = federation_of([2], federation=federation_b)  # a member council on B, with its delegate
    council = make_council(members=2)  # on A
    _join(servers, make_proposal, decide, council, stand_in)
    _deliver(servers, A, peer_b), _deliver(servers, B, peer_a)
    with servers(B):
        question = create_federation_proposal(members_of(home)[0], federation_b, title="Share the well", matter="water")
    assert {p.council for p in question.mandates.all()} == {home}  # the council on A votes on A
    assert _deliver(servers, B, peer_a).delivered == 1
    mandate = RemoteMandate.objects.get(remote_proposal=question.pk).mandate
    assert (mandate.council, mandate.kind, mandate.title) == (council, "mandate", "Mandate: Share the well")
    assert mandate.author.username == "server:b.example" and not mandate.author.has_usable_password()

    with servers(B):
        decide(question.mandates.get(), "yes", close=False)
    with servers(A):
        assert decide(mandate, ["yes", "yes", "no"]).outcome == "adopted"
    sent = json.loads(OutboxMessage.objects.get(peer=peer_b, type="mandate.ballot").body)
    assert [json.loads(a["statement"])["act"] for a in sent["acts"]].count("ballot.cast") == 3
    assert _deliver(servers, A, peer_b).delivered == 1
    ballot = FederationBallot.objects.get(proposal=question, council__remote__peer=peer_a)
    assert ballot.mandated and (ballot.yes, ballot.no) == (1, 0)
    with servers(B):
        clock.set(question.voting_ends + timedelta(seconds=1))
        decision = get_decision(Proposal.objects.get(pk=question.pk))
    assert (decision.yes, decision.no, decision.outcome) == (2, 0, "adopted")
