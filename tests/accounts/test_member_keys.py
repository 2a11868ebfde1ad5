"""Members' keys and signed acts: registration with proof of possession, the 428 flow, refusals."""

import base64
import json
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts import signing
from councils.accounts.models import MemberKey
from councils.accounts.services import create_token
from councils.errors import BadSignature, CouncilsError, NotAllowed, SignatureRequired
from councils.record import statement as st

pytestmark = pytest.mark.django_db


def client_for(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'tests')[1]}")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class KeyFile:
    """A member's own key, as a client holds it."""

    def __init__(self):
        self.private = st.generate_private_key()
        self.public = st.encode_public_key(st.public_key_of(self.private))
        self.key_id = st.key_id(st.public_key_of(self.private))

    def sign_text(self, text: str) -> str:
        signed = st.sign_statement(st.parse_statement(text.encode()), self.private)
        return st.encode_signature(signed.signature)

    def registration(self, now, label="laptop"):
        statement = signing.registration_statement(self.public, label, now)
        signed = st.sign_statement(statement, self.private)
        return {"public_key": self.public, "label": label, "statement": signed.statement.decode(),
                "signature": st.encode_signature(signed.signature)}


def register(client, key, now, label="laptop"):
    return client.post("/api/members/me/keys", data=json.dumps(key.registration(now, label)), content_type="application/json")


@pytest.fixture
def vote(make_council, make_proposal, members_of, clock):
    """A vote open now; the two members who vote in it have no key yet, and the server holds none."""
    council = make_council(members=2)
    proposal = make_proposal(council, deliberation=timedelta(0))
    previous = signing.install_keyring(None)
    yield council, proposal, members_of(council)[1:]
    signing.install_keyring(previous)


def put_ballot(client, proposal, body, **headers):
    return client.put(f"/api/proposals/{proposal.pk}/ballot", data=json.dumps(body), content_type="application/json", **headers)


def signed_headers(key, text):
    return {"HTTP_COUNCILS_STATEMENT": b64(text.encode()), "HTTP_COUNCILS_SIGNATURE": key.sign_text(text)}


def test_member_registers_a_key_with_proof_of_possession_and_lists_it(make_user, clock, no_keyring):
    member = make_user()
    client, key = client_for(member), KeyFile()
    response = register(client, key, clock.now())
    assert response.status_code == 201, response.content
    assert response.json()["key_id"] == key.key_id
    listed = client.get("/api/members/me/keys").json()
    assert [k["key_id"] for k in listed] == [key.key_id]
    from councils.record.models import RecordEntry

    entry = RecordEntry.objects.get(chain=f"member/{member.pk}", kind="key.registered")
    assert json.loads(entry.data_json)["signed"]["statement"].startswith('{"act":"key.register"')


def test_registration_signed_by_another_key_is_refused(make_user, clock, no_keyring):
    client, key, other = client_for(make_user()), KeyFile(), KeyFile()
    body = key.registration(clock.now())
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    body["signature"] = b64(Ed25519PrivateKey.from_private_bytes(other.private).sign(body["statement"].encode()))
    response = client.post("/api/members/me/keys", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    assert not MemberKey.objects.exists()


def test_ballot_without_signature_answers_428_with_the_statement_and_writes_nothing(vote, clock):
    council, proposal, (ana, ben) = vote
    client, key = client_for(ana), KeyFile()
    assert register(client, key, clock.now()).status_code == 201
    response = put_ballot(client, proposal, {"choice": "yes"})
    assert response.status_code == 428, response.content
    text = response.json()["statement"]
    parsed = st.parse_statement(text.encode())
    assert (parsed.act, parsed.object, parsed.council, parsed.key) == ("ballot.cast", proposal.subject, council.slug, key.key_id)
    assert parsed.content == {"choice": "yes", "content": None, "reason": ""}
    assert not proposal.ballots.exists()
    response = put_ballot(client, proposal, {"choice": "yes"}, **signed_headers(key, text))
    assert response.status_code == 200, response.content
    assert proposal.ballots.get().choice == "yes"


def test_replayed_statement_is_refused(vote, clock):
    council, proposal, (ana, ben) = vote
    client, key = client_for(ana), KeyFile()
    register(client, key, clock.now())
    text = put_ballot(client, proposal, {"choice": "yes"}).json()["statement"]
    assert put_ballot(client, proposal, {"choice": "yes"}, **signed_headers(key, text)).status_code == 200
    text_no = put_ballot(client, proposal, {"choice": "no"}).json()["statement"]
    assert put_ballot(client, proposal, {"choice": "no"}, **signed_headers(key, text_no)).status_code == 200
    # The old "yes" sent again, to flip the ballot back without the member: a replay.
    response = put_ballot(client, proposal, {"choice": "yes"}, **signed_headers(key, text))
    assert response.status_code == 409
    assert proposal.ballots.get().choice == "no"


def test_statement_of_another_act_is_refused(vote, clock):
    council, proposal, (ana, ben) = vote
    client, key = client_for(ana), KeyFile()
    register(client, key, clock.now())
    text = put_ballot(client, proposal, {"choice": "no"}).json()["statement"]
    response = put_ballot(client, proposal, {"choice": "yes"}, **signed_headers(key, text))
    assert response.status_code == 400
    assert response.json()["field"] == "content"
    assert not proposal.ballots.exists()


def test_wrong_key_is_refused(vote, clock):
    council, proposal, (ana, ben) = vote
    client, key, bens_key = client_for(ana), KeyFile(), KeyFile()
    register(client, key, clock.now())
    register(client_for(ben), bens_key, clock.now())
    text = put_ballot(client, proposal, {"choice": "yes"}).json()["statement"]
    forged = text.replace(key.key_id, bens_key.key_id)
    response = put_ballot(client, proposal, {"choice": "yes"}, **signed_headers(bens_key, forged))
    assert response.status_code == 403
    # Ana's statement with a signature by a key that is not hers.
    response = put_ballot(client, proposal, {"choice": "yes"}, HTTP_COUNCILS_STATEMENT=b64(text.encode()),
                          HTTP_COUNCILS_SIGNATURE=bens_key.sign_text(forged))
    assert response.status_code == 403
    assert not proposal.ballots.exists()


def test_rotation_and_loss_old_acts_stay_valid_revoked_key_refused(vote, clock):
    from councils.record.services import verify_all

    council, proposal, (ana, ben) = vote
    client, old, new = client_for(ana), KeyFile(), KeyFile()
    register(client, old, clock.now())
    text = put_ballot(client, proposal, {"choice": "yes"}).json()["statement"]
    assert put_ballot(client, proposal, {"choice": "yes"}, **signed_headers(old, text)).status_code == 200
    clock.advance(minutes=1)
    assert client.post(f"/api/members/me/keys/{old.key_id}/revoke").status_code == 200  # lost: login suffices
    text = put_ballot(client, proposal, {"choice": "no"}).json().get("statement")
    assert text is None or old.key_id not in text
    stale = text and None
    assert stale is None
    # A statement by the revoked key is refused.
    old_text = signing.expected_statement(act="ballot.cast", council=council, object=proposal.subject, at=clock.now(),
                                          key=old.key_id, content={"choice": "no", "content": None, "reason": ""})
    response = put_ballot(client, proposal, {"choice": "no"}, **signed_headers(old, old_text.canonical().decode()))
    assert response.status_code == 403
    assert register(client, new, clock.now()).status_code == 201
    text = put_ballot(client, proposal, {"choice": "no"}).json()["statement"]
    assert put_ballot(client, proposal, {"choice": "no"}, **signed_headers(new, text)).status_code == 200
    report = verify_all()
    assert report.ok, [str(p) for p in report.problems]


def test_operator_in_the_shell_cannot_cast_a_ballot_without_the_members_key(vote, clock):
    from councils.decisions.services import cast_ballot

    council, proposal, (ana, ben) = vote
    with pytest.raises(NotAllowed):  # no key at all
        cast_ballot(ana, proposal, "yes")
    register(client_for(ana), KeyFile(), clock.now())
    with pytest.raises(SignatureRequired):
        cast_ballot(ana, proposal, "yes")
    operators = KeyFile()  # a key of the operator's own, not registered to Ana
    statement = signing.expected_statement(act="ballot.cast", council=council, object=proposal.subject, at=clock.now(),
                                           key=operators.key_id, content={"choice": "yes", "content": None, "reason": ""})
    text = statement.canonical().decode()
    with signing.offering(text, operators.sign_text(text)), pytest.raises(BadSignature):
        cast_ballot(ana, proposal, "yes")
    assert not proposal.ballots.exists()


def test_signed_act_through_the_offering_context(vote, clock):
    from councils.decisions.services import cast_ballot

    council, proposal, (ana, ben) = vote
    key = KeyFile()
    register(client_for(ana), key, clock.now())
    try:
        cast_ballot(ana, proposal, "yes")
    except SignatureRequired as required:
        text = required.statement
    with signing.offering(text, key.sign_text(text)):
        cast_ballot(ana, proposal, "yes")
    with signing.offering(text, key.sign_text(text)), pytest.raises(CouncilsError) as refused:
        cast_ballot(ana, proposal, "no")  # the "yes" statement does not say "no"
    assert refused.value.field == "content"
    assert proposal.ballots.get().choice == "yes"


def test_page_form_prepare_answers_428_then_signed_form_votes(vote, clock):
    council, proposal, (ana, ben) = vote
    key = KeyFile()
    register(client_for(ana), key, clock.now())
    browser = Client()
    browser.force_login(ana)
    url = f"/c/{council.slug}/p/{proposal.pk}/vote/"
    response = browser.post(url, {"choice": "yes"}, HTTP_COUNCILS_PREPARE="1", HTTP_COUNCILS_KEY=key.key_id)
    assert response.status_code == 428
    text = response.json()["statement"]
    assert not proposal.ballots.exists()
    # A plain form post without a signature: refused with a message, nothing written.
    response = browser.post(url, {"choice": "yes"}, follow=True)
    assert "must be signed with your key" in response.content.decode()
    assert not proposal.ballots.exists()
    response = browser.post(url, {"choice": "yes", "councils_statement": text, "councils_signature": key.sign_text(text),
                                  "councils_key": key.key_id})
    assert response.status_code == 302
    assert proposal.ballots.get().choice == "yes"


@pytest.fixture
def keys_off():
    """Call to stop the server signing with held keys (after set-up); restored afterwards."""
    previous = []
    yield lambda: previous.append(signing.install_keyring(None))
    if previous:
        signing.install_keyring(previous[0])


def test_secret_ballot_participation_verifies_and_stays_unlinkable(make_council, make_proposal, members_of, clock, keys_off):
    from councils.decisions.services import cast_ballot, participation_digest
    from councils.record.models import RecordEntry
    from councils.record.services import verify_all

    council = make_council(members=2)
    proposal = make_proposal(council, deliberation=timedelta(0), secret=True)
    ana = members_of(council)[1]
    keys_off()
    key = KeyFile()
    register(client_for(ana), key, clock.now())
    try:
        cast_ballot(ana, proposal, "yes")
    except SignatureRequired as required:
        text = required.statement
    parsed = st.parse_statement(text.encode())
    assert parsed.act == "ballot.participate" and not parsed.has_content
    assert parsed.content_sha256 == participation_digest(proposal)  # the same for every voter, whatever the ballot
    with signing.offering(text, key.sign_text(text)):
        receipt = cast_ballot(ana, proposal, "yes")
    assert receipt.receipt
    entry = RecordEntry.objects.get(kind="voter.registered")
    assert "yes" not in entry.data_json
    report = verify_all()
    assert report.ok, [str(p) for p in report.problems]


def test_your_keys_page_lists_keys_and_revokes(make_user, clock, no_keyring):
    member = make_user()
    key = KeyFile()
    register(client_for(member), key, clock.now())
    browser = Client()
    browser.force_login(member)
    page = browser.get("/profile/keys/").content.decode()
    assert key.key_id[:16] in page
    assert 'id="key-maker"' in page and 'data-register-url="/api/members/me/keys"' in page
    response = browser.post(f"/profile/keys/{key.key_id}/revoke/")
    assert response.status_code == 302
    assert MemberKey.objects.get().revoked_at is not None


def _insert_ballot_as_operator(proposal, voter, signed=None):
    """What an operator with shell and database access can do: write the row and a well-linked record entry."""
    from django.db import transaction

    from councils import clock as app_clock
    from councils.decisions.models import Ballot
    from councils.record.services import append

    with transaction.atomic():
        now = app_clock.now()
        ballot = Ballot.objects.create(proposal=proposal, voter=voter, choice="yes", content_json="", reason="",
                                       cast_at=now, changed_at=now)
        extra = {"signed": signed} if signed else {}
        append(proposal.council, kind="ballot.cast", subject=ballot.subject, state=ballot.record_state(), at=now,
               actor=voter, **extra)


def test_ballot_inserted_in_the_database_is_caught_by_councils_verify(vote, clock, capsys):
    from councils.cli import cmd_verify
    from councils.record.services import verify_all

    council, proposal, (ana, ben) = vote
    assert verify_all().ok
    _insert_ballot_as_operator(proposal, ana)
    report = verify_all()
    assert not report.ok
    assert any("carries no signature" in str(p) for p in report.problems), [str(p) for p in report.problems]
    # Signed with a key of the operator's own, even one "registered" by writing the row: still caught.
    operators = KeyFile()
    text = signing.expected_statement(act="ballot.cast", council=council, object=proposal.subject, at=clock.now(),
                                      key=operators.key_id, content={"choice": "yes", "content": None, "reason": ""})
    _insert_ballot_as_operator(proposal, ben, {"statement": text.canonical().decode(), "signature": operators.sign_text(text.canonical().decode())})
    assert any("never registered" in str(p) for p in verify_all().problems)
    assert cmd_verify is not None


def test_council_page_check_also_checks_signatures(vote, clock):
    from councils.record.services import verify_all

    council, proposal, (ana, ben) = vote
    _insert_ballot_as_operator(proposal, ana)
    assert any("carries no signature" in str(p) for p in verify_all([council]).problems)


def test_acts_of_the_rules_are_signed_by_the_server_naming_the_rule_and_what_triggered_them(make_council, make_proposal, decide, clock):
    from councils.record.models import RecordEntry
    from councils.record.services import verify_all

    council = make_council(members=2)
    proposal = make_proposal(council, deliberation=timedelta(0))
    decide(proposal, "yes")
    entry = RecordEntry.objects.get(kind="decision.made")
    signed = json.loads(entry.data_json)["server_signed"]
    statement = st.parse_statement(signed["statement"].encode())
    assert statement.act == "rule.decision.made"
    assert statement.content["rule"] == "decision.made" and statement.content["after"] == entry.prev_hash
    report = verify_all()
    assert report.ok and report.rule_signatures > 0 and report.signatures > 0


def test_every_page_form_of_an_act_answers_prepare_with_428(vote, clock):
    council, proposal, (ana, ben) = vote
    key = KeyFile()
    register(client_for(ana), key, clock.now())
    browser = Client()
    browser.force_login(ana)
    response = browser.post(f"/c/{council.slug}/p/{proposal.pk}/comment/", {"body": "Agreed."}, HTTP_COUNCILS_PREPARE="1")
    assert response.status_code == 428
    text = response.json()["statement"]
    assert st.parse_statement(text.encode()).act == "comment.add"
    assert not proposal.comments.exists()
    browser.post(f"/c/{council.slug}/p/{proposal.pk}/comment/", {"body": "Agreed.", "councils_statement": text,
                                                                    "councils_signature": key.sign_text(text)})
    assert proposal.comments.get().body == "Agreed."
    # Leaving the council is signed too.
    response = browser.post(f"/c/{council.slug}/leave/", HTTP_COUNCILS_PREPARE="1")
    assert response.status_code == 428
    assert st.parse_statement(response.json()["statement"].encode()).act == "membership.leave"
    # Invalid input is not a 428: the page answers as it would (the prepare script then posts for real).
    response = browser.post(f"/c/{council.slug}/p/{proposal.pk}/comment/", {"body": ""}, HTTP_COUNCILS_PREPARE="1")
    assert response.status_code != 428
