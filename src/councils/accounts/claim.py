"""Claiming an account a council's free-exit import made (issue 19): the member proves who they are with their key.

``challenge(username)`` stores a single-use nonce (ten minutes); the member signs the statement
act "membership.claim", council "-" (or a council's slug), object "account:<username>",
content {"server": <this server's name>, "challenge": <nonce>} with one of the keys their origin registered to
them, and ``claim`` checks it, sets the new password, marks the account claimed and registers that key (an entry
"key.registered" on the member's chain, carrying the signed claim). Every refusal leaves nothing written.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from councils import clock
from councils.accounts import signing
from councils.errors import BadSignature, Conflict, CouncilsError, Invalid, NotFound
from councils.record import statement as st

ACT = "membership.claim"
CHALLENGE_LIFE = timedelta(minutes=10)


def server_name() -> str:
    from councils.record import log

    return log.server_name()


def _arrival(username: str, *, lock: bool = False):
    from councils.accounts.models import ArrivedMember

    rows = ArrivedMember.objects.select_related("user")
    if lock:
        rows = rows.select_for_update()
    arrival = rows.filter(user__username=str(username or "")[:150]).first()
    if arrival is None:
        raise NotFound(_("no account here waits to be claimed under that user name"))
    if arrival.claimed_at is not None:
        raise Conflict(_("this account was claimed already: log in"), field="username")
    return arrival


def challenge(username: str) -> dict:
    """A new nonce for ``username`` to sign, with the statement's fields (its "at" and "key" are the signer's)."""
    from councils.accounts.models import ClaimChallenge

    arrival = _arrival(username)
    now = clock.now()
    nonce = secrets.token_urlsafe(24)
    ClaimChallenge.objects.create(user=arrival.user, nonce=nonce, expires_at=now + CHALLENGE_LIFE)
    return {"username": arrival.user.username, "challenge": nonce, "expires_at": now + CHALLENGE_LIFE,
            "act": ACT, "council": signing.NO_COUNCIL, "object": f"account:{arrival.user.username}",
            "content": {"server": server_name(), "challenge": nonce},
            "keys": [k["key_id"] for k in arrival.keys]}


def claim(username: str, password: str, statement: str | bytes, signature: str):
    """Check the signed claim and take the account; returns the user. Raises NotFound (unknown user), Conflict
    (claimed already, or the key is registered to another account here), CouncilsError 400 (malformed statement, an
    unknown, used or expired challenge), BadSignature 403 (a key that is not the member's, a signature that does not
    verify), Invalid 422 (a password Django's validators refuse)."""
    from councils.accounts.models import ClaimChallenge, MemberKey
    from councils.record.services import append

    data = statement.encode("utf-8") if isinstance(statement, str) else (statement or b"")
    now = clock.now()
    with transaction.atomic():
        arrival = _arrival(username, lock=True)
        user = arrival.user
        try:
            given = st.parse_statement(data)
        except st.StatementError as exc:
            raise CouncilsError(_("the statement is malformed: %(error)s") % {"error": exc}, field="statement") from None
        content = given.content if isinstance(given.content, dict) else {}
        nonce = str(content.get("challenge", ""))[:64]
        expected = st.Statement(act=ACT, council=given.council, object=f"account:{user.username}", at=given.at,
                                key=given.key, content={"server": server_name(), "challenge": nonce})
        if given.council not in (signing.NO_COUNCIL,) and not _member_of(user, given.council):
            raise CouncilsError(_("the statement's council must be '-' or a council of yours"), field="council")
        if expected.canonical() != data:
            raise CouncilsError(_("the statement must be the membership.claim statement of this account and server "
                                  "(act membership.claim, object account:%(username)s, content server %(server)s and "
                                  "the challenge)") % {"username": user.username, "server": server_name()},
                                field="statement")
        if abs(given.time() - now) > signing.WINDOW:
            raise CouncilsError(_("the statement's time is more than %(minutes)s minutes from the server's clock")
                                % {"minutes": int(signing.WINDOW.total_seconds() // 60)}, field="at")
        found = ClaimChallenge.objects.select_for_update().filter(user=user, nonce=nonce).first()
        if found is None or found.used_at is not None:
            raise CouncilsError(_("this challenge is unknown or was used already: ask for a new one"), field="challenge")
        if found.expires_at <= now:
            raise CouncilsError(_("this challenge expired: ask for a new one"), field="challenge")
        public = next((k["public_key"] for k in arrival.keys if k.get("key_id") == given.key), None)
        if public is None:
            raise BadSignature(_("key %(key)s is not a key your origin server registered to you") % {"key": given.key})
        try:
            st.verify_statement(data, st.decode_signature(signature or ""), st.decode_public_key(public))
        except st.StatementError:
            raise BadSignature(_("the signature does not verify with your key %(key)s") % {"key": given.key}) from None
        try:
            validate_password(password or "", user)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), field="password") from None
        if MemberKey.objects.filter(key_id=given.key).exists():
            raise Conflict(_("this key is registered to another account on this server"), field="key")
        found.used_at = now
        found.save(update_fields=["used_at"])
        user.set_password(password)
        user.save(update_fields=["password"])
        arrival.claimed_at = now
        arrival.save(update_fields=["claimed_at"])
        key = MemberKey.objects.create(user=user, key_id=given.key, public_key=public,
                                       label=(_("claimed from %(origin)s") % {"origin": arrival.origin})[:80],
                                       registered_at=now)
        append(signing.member_chain(user), kind="key.registered", subject=key.subject, state=key.record_state(),
               at=now, actor=user, signed={"statement": data.decode("utf-8"), "signature": signature})
    return user


def _member_of(user, slug: str) -> bool:
    from django.apps import apps

    try:
        membership = apps.get_model("assemblies", "Membership")
    except LookupError:
        return False
    return membership.objects.filter(member=user, council__slug=slug).exists()


def unclaimed(users) -> set[int]:
    """The ids, among ``users``, of accounts a free-exit import made and their members have not claimed yet."""
    from councils.accounts.models import ArrivedMember

    return set(ArrivedMember.objects.filter(user__in=users, claimed_at__isnull=True).values_list("user_id", flat=True))

