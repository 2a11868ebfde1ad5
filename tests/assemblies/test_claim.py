"""Free exit, issue 19 item 4: an arrived member claims their account on the new server by signing a challenge
with their own key (docs/free-exit.md, "Members follow by proving who they are")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from councils.accounts import signing
from councils.assemblies.exit import export_council
from councils.record import statement as st

from .test_exit import DESTINATION, moved_council  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db
PASSWORD = "a long new password 42"


@pytest.fixture
def arrived(moved_council, settings, members_of):  # noqa: F811
    """The moved council imported into this database, which plays the new server's (as in test_exit's half-way
    test): the origin's texts, secret ballots and key rows are not here yet. Returns (council, {origin user: (new
    account, private key)})."""
    from django.contrib.auth import get_user_model

    from councils.accounts.models import MemberKey
    from councils.assemblies import exit as exit_module
    from councils.decisions.models import SecretBallot
    from councils.record import log
    from councils.record.models import Content

    origin_members = list(members_of(moved_council))
    keys = {m.username: signing.keyring().private_key_for(m) for m in origin_members}
    data = export_council(moved_council)
    Content.objects.all().delete()
    SecretBallot.objects.all().delete()
    MemberKey.objects.all().delete()
    settings.COUNCILS_SERVER_NAME = log.server_name()
    settings.SITE_URL = DESTINATION
    before = set(get_user_model().objects.values_list("pk", flat=True))
    arrival = exit_module.import_council(data)
    new_users = get_user_model().objects.exclude(pk__in=before)
    by_name = {u.arrival.keys[0]["key_id"]: u for u in new_users}
    accounts = {}
    for name, private in keys.items():
        kid = st.key_id(st.public_key_of(private))
        accounts[name] = (by_name[kid], private)
    return arrival.council, accounts


def _logs_in(client, username) -> bool:
    client.post("/login/", {"username": username, "password": PASSWORD})
    return "_auth_user_id" in client.session


def _signed_claim(client, username, private, *, council="-"):
    answer = client.get("/api/members/claim/challenge", {"username": username})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    from councils import clock

    statement = st.Statement(act="membership.claim", council=council, object=f"account:{username}",
                             at=st.format_time(clock.now()), key=st.key_id(st.public_key_of(private)),
                             content={"server": body["content"]["server"], "challenge": body["challenge"]})
    signed = st.sign_statement(statement, private)
    return {"username": username, "password": PASSWORD, "statement": signed.statement.decode(),
            "signature": st.encode_signature(signed.signature)}


def test_a_member_claims_with_their_key_then_logs_in_and_casts_a_signed_ballot(client, arrived, clock, no_keyring):
    from councils.decisions.services import cast_ballot, create_proposal
    from councils.errors import SignatureRequired

    council, accounts = arrived
    (user, private), (other, other_private) = list(accounts.values())[:2]
    assert not _logs_in(client, user.username)
    payload = _signed_claim(client, user.username, private)
    answer = client.post("/api/members/claim", payload, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["claimed"] is True
    assert _logs_in(client, user.username)
    # Its key is now an active key of the member, registered on the member's chain.
    assert [k.key_id for k in signing.keys_of(user)] == [st.key_id(st.public_key_of(private))]
    # The other member claims too, then proposes; the first casts a ballot signed with their own key.
    assert client.post("/api/members/claim", _signed_claim(client, other.username, other_private),
                       content_type="application/json").status_code == 200
    now = clock.now()

    def signed_act(actor, key, act):
        try:
            return act()
        except SignatureRequired as required:
            signed = st.sign_statement(st.parse_statement(required.statement.encode()), key)
            with signing.offering(signed.statement, st.encode_signature(signed.signature)):
                return act()

    proposal = signed_act(other, other_private, lambda: create_proposal(
        other, council, title="Stay here", deliberation_ends=now, voting_ends=now + timedelta(hours=1)))
    ballot = signed_act(user, private, lambda: cast_ballot(user, proposal, "yes"))
    assert ballot.pk is not None
    # The key's registration (carrying the signed claim) and the ballot pass the verifier's signature check.
    from councils.record.models import RecordEntry
    from councils.record.services import _entry_dict
    from councils.record.signatures import SignatureCheck

    check = SignatureCheck()
    rows = RecordEntry.objects.filter(chain__in=[signing.member_chain(user), signing.member_chain(other)]).order_by("pk")
    assert [r.kind for r in rows] == ["key.registered", "key.registered"]
    for row in [*rows, RecordEntry.objects.filter(kind="ballot.cast").order_by("-pk").first()]:
        check.add(_entry_dict(row.as_entry()))
    assert check.finish() == [] and check.signed == 3


def test_a_wrong_key_a_replayed_or_expired_challenge_and_a_second_claim_are_refused(client, arrived, clock):
    from django.contrib.auth import get_user_model

    _council, accounts = arrived
    (user, private), (_other, other_private) = list(accounts.values())[:2]
    wrong = _signed_claim(client, user.username, other_private)
    answer = client.post("/api/members/claim", wrong, content_type="application/json")
    assert answer.status_code == 403 and "not a key" in answer.json()["detail"]
    forged = _signed_claim(client, user.username, st.generate_private_key())
    assert client.post("/api/members/claim", forged, content_type="application/json").status_code == 403
    weak = dict(_signed_claim(client, user.username, private), password="123")
    assert client.post("/api/members/claim", weak, content_type="application/json").status_code == 422
    unknown = client.post("/api/members/claim", dict(weak, username="nobody-here"), content_type="application/json")
    assert unknown.status_code == 404
    assert client.get("/api/members/claim/challenge", {"username": "nobody-here"}).status_code == 404
    late = _signed_claim(client, user.username, private)
    clock.advance(minutes=11)
    answer = client.post("/api/members/claim", late, content_type="application/json")
    assert answer.status_code == 400 and "expired" in answer.json()["detail"] or "minutes" in answer.json()["detail"]
    # Nothing was written by any refusal: no password, no key.
    user = get_user_model().objects.get(pk=user.pk)
    assert not user.has_usable_password() and not signing.keys_of(user).exists()
    good = _signed_claim(client, user.username, private)
    assert client.post("/api/members/claim", good, content_type="application/json").status_code == 200
    replay = client.post("/api/members/claim", good, content_type="application/json")
    assert replay.status_code == 409
    assert client.get("/api/members/claim/challenge", {"username": user.username}).status_code == 409


def test_a_replayed_challenge_is_refused(client, arrived):
    """A challenge is single use: a second claim signed over the same nonce is refused (here for another account
    that has not claimed, signed over a nonce another account used)."""
    from councils.accounts.models import ClaimChallenge

    _council, accounts = arrived
    (user, private) = next(iter(accounts.values()))
    payload = _signed_claim(client, user.username, private)
    nonce = st.parse_statement(payload["statement"].encode()).content["challenge"]
    ClaimChallenge.objects.filter(nonce=nonce).update(used_at=ClaimChallenge.objects.get(nonce=nonce).expires_at)
    answer = client.post("/api/members/claim", payload, content_type="application/json")
    assert answer.status_code == 400 and "used already" in answer.json()["detail"]


def test_unclaimed_members_are_shown_and_keep_counting(client, arrived):
    from councils.assemblies.models import Membership

    council, accounts = arrived
    page = client.get(f"/c/{council.slug}/").content.decode()
    assert "not yet claimed on this server" in page
    users = [u for u, _ in accounts.values()]
    assert Membership.objects.filter(council=council, member__in=users, left_at__isnull=True).count() == len(users)


def test_the_claim_command_claims_with_a_key_file(client, arrived, tmp_path, monkeypatch, capsys, clock):
    """``councils claim URL --key FILE --username U``, against this server (its HTTP calls go to the test client)."""
    from councils.commands import sign

    _council, accounts = arrived
    user, private = next(iter(accounts.values()))
    sign.KeyFile(private).save(tmp_path / "me.key")
    sign.KeyFile.new().save(tmp_path / "other.key")

    def through_client(url, method, body, headers):
        path = url.split(DESTINATION, 1)[1]
        answer = (client.get(path) if method == "GET" else
                  client.post(path, body, content_type="application/json"))
        return answer.status_code, answer.json()

    monkeypatch.setattr(sign, "_request", through_client)

    class Now:  # the command signs at its machine's time; here, the test clock's
        @staticmethod
        def now(tz=None):
            return clock.now()

    monkeypatch.setattr(sign, "datetime", Now)
    monkeypatch.setenv("COUNCILS_PASSWORD", PASSWORD)
    assert sign.claim_main([DESTINATION, "--key", str(tmp_path / "other.key"), "--username", user.username]) == 1
    assert "not one your origin server registered" in capsys.readouterr().err
    assert sign.claim_main([DESTINATION, "--key", str(tmp_path / "me.key"), "--username", user.username]) == 0
    out = capsys.readouterr()
    assert "Claimed" in out.out, out.err
    assert _logs_in(client, user.username)
