"""Members' signed acts: the one check every service makes before it writes a member's act.

A service that writes an act a member makes calls ``member_act`` inside its transaction, after it has validated the
act and before (or as) it appends the record entry; it stores what ``member_act`` returns in that entry
(``append(..., signed=...)``). ``member_act`` builds the statement the act means (act, council, object, content:
``councils.record.statement``), and either

* finds the member's signed statement offered with the request (``offering``, set by the pages' and the API's
  middleware from the ``Councils-Statement`` / ``Councils-Signature`` / ``Councils-Key`` headers or the
  ``councils_statement`` / ``councils_signature`` / ``councils_key`` form fields) and checks it: the same statement
  in every field but ``at``, ``at`` within ``WINDOW`` of the server's clock, the key an active key of this member,
  the signature valid, the statement never accepted before;
* or, when none is offered, raises ``SignatureRequired`` carrying the statement to sign (HTTP 428), so the act is
  written only when its member signed it; a key the server holds itself (``Keyring``: demo members, the test
  suite) signs instead, and says so in the record (the key's registration is marked ``held_by_server``).

So no path (API, page, shell, management command) writes a member's act without its member's key: the check is in
the service, not in the adapters. One query (the member's active keys) and one insert (the statement's digest,
for replays) per act, and one signature verification.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from councils import clock
from councils.errors import BadSignature, Conflict, CouncilsError, Invalid, NotAllowed, SignatureRequired
from councils.record import statement as st

WINDOW = timedelta(minutes=10)  # how far a statement's "at" may be from the server's clock
NO_COUNCIL = "-"  # the council of acts that belong to none (a key's registration)
NO_CONTENT = st._NO_CONTENT


def member_chain(user) -> str:
    """The chain of a member's own acts (key registrations and revocations)."""
    return f"member/{user.pk}"


# ----- what the request offers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """What a request carries for the act it asks for: a signed statement, or only the key meant, or nothing."""

    statement: bytes | None = None
    signature: str | None = None
    key: str | None = None
    prepare: bool = False  # "Councils-Prepare: 1": answer 428 with the statement, never sign with a held key


_offer: contextvars.ContextVar[Offer | None] = contextvars.ContextVar("councils_offer", default=None)
_required: contextvars.ContextVar[list | None] = contextvars.ContextVar("councils_required", default=None)


@contextlib.contextmanager
def offering(statement: bytes | str | None = None, signature: str | None = None, key: str | None = None,
             prepare: bool = False, *, collect: list | None = None):
    """Within the block, acts are checked against this signed statement (a client's, a command's, a test's).

    ``collect``: a list that receives each ``SignatureRequired`` raised in the block (the pages' middleware uses it
    to answer a prepare request with 428 whatever the view did with the refusal)."""
    if isinstance(statement, str):
        statement = statement.encode("utf-8")
    token = _offer.set(Offer(statement=statement, signature=signature, key=key, prepare=prepare))
    token_required = _required.set(collect)
    try:
        yield
    finally:
        _offer.reset(token)
        _required.reset(token_required)


# ----- keys the server holds (demo members, tests) ------------------------------------------------------------


class Keyring:
    """Private keys this server holds for some members, explicitly not for real members: the demo's (made by the
    demo loader, kept in DATA_DIR/demo-keys.json) and the test suite's. ``private_key_for(user)`` returns 32 bytes or
    None."""

    def private_key_for(self, user) -> bytes | None:  # pragma: no cover - interface
        return None


class DerivedKeyring(Keyring):
    """Every user gets a key derived from a secret and their user name (the test suite)."""

    def __init__(self, secret: str):
        self.secret = secret
        self._cache: dict[str, bytes] = {}

    def private_key_for(self, user) -> bytes | None:
        name = user.username
        key = self._cache.get(name)
        if key is None:
            key = self._cache[name] = hashlib.sha256(f"{self.secret}:{name}".encode()).digest()
        return key


class FileKeyring(Keyring):
    """Keys in a JSON file {user name: base64url private key} (the demo's keys)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._keys: dict[str, bytes] | None = None
        self._mtime = None

    def private_key_for(self, user) -> bytes | None:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return None
        if self._keys is None or mtime != self._mtime:
            raw = json.loads(self.path.read_text())
            self._keys = {name: st._unb64url(value, 32, "private key") for name, value in raw.items()}
            self._mtime = mtime
        return self._keys.get(user.username)

    def add(self, user, private_key: bytes) -> None:
        keys = json.loads(self.path.read_text()) if self.path.exists() else {}
        keys[user.username] = st.b64url(private_key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(keys, indent=1, sort_keys=True))
        self.path.chmod(0o600)
        self._keys = None


_UNSET = Keyring()
_keyring: list[Keyring | None] = [_UNSET]
_demo_rings: dict[str, FileKeyring] = {}


def install_keyring(keyring: Keyring | None) -> Keyring | None:
    """Use ``keyring`` from now on (None: no key is held by the server); returns the one it replaces."""
    previous, _keyring[0] = _keyring[0], keyring
    return previous


def demo_keyring_path() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "demo-keys.json"


def keyring() -> Keyring | None:
    """The keyring installed, or by default the demo's (DATA_DIR/demo-keys.json) when the demo loader made one."""
    if _keyring[0] is _UNSET:
        path = demo_keyring_path()
        if not path.exists():
            return None
        ring = _demo_rings.get(str(path))
        if ring is None:
            ring = _demo_rings[str(path)] = FileKeyring(path)
        return ring
    return _keyring[0]


# ----- the check --------------------------------------------------------------------------------------------------


def _council_name(council) -> str:
    if council is None:
        return NO_COUNCIL
    return council if isinstance(council, str) else council.slug


def expected_statement(*, act: str, council, object: str, at, key: str, content=NO_CONTENT,
                       content_sha256: str | None = None) -> st.Statement:
    return st.Statement(act=act, council=_council_name(council), object=object,
                        at=at if isinstance(at, str) else st.format_time(at), key=key,
                        content=content, content_sha256=content_sha256)


def member_act(actor, *, act: str, council, object: str, content=NO_CONTENT, content_sha256: str | None = None,
               now=None) -> dict:
    """Check that ``actor`` signed this act; returns what its record entry keeps (``{"statement", "signature"}``).

    Raises SignatureRequired (428) with the statement to sign when the request carries no signature, BadSignature
    (403) for a key that is not an active key of the actor or a signature that does not verify, Conflict (409) for
    a statement accepted before, CouncilsError (400) for a malformed or different statement. Call it inside the
    act's transaction, after validating the act: a refusal leaves nothing written.
    """
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("Log in to act: every act is signed by its member's key."))
    now = now or clock.now()
    from councils.accounts.models import MemberKey

    offer = _offer.get() or Offer()
    active = {key_id: (public, held) for key_id, public, held in
              MemberKey.objects.filter(user_id=actor.pk, revoked_at__isnull=True)
              .order_by("-registered_at", "-pk").values_list("key_id", "public_key", "held_by_server")}
    if offer.statement is not None or offer.signature is not None:
        return _check_offer(actor, offer, active, act=act, council=council, object=object, content=content,
                            content_sha256=content_sha256, now=now)
    ring = keyring()
    private = ring.private_key_for(actor) if ring is not None else None
    ring_key = st.key_id(st.public_key_of(private)) if private is not None else None
    named = offer.key
    if named is not None and named not in active:
        raise BadSignature(_("key %(key)s is not an active key of yours: register it on 'Your keys', or name another.")
                           % {"key": str(named)[:40]})
    if private is not None and named in (None, ring_key):
        statement = expected_statement(act=act, council=council, object=object, at=now, key=ring_key,
                                       content=content, content_sha256=content_sha256)
        if offer.prepare:
            _raise_required(statement, held_by_server=True)
        if ring_key not in active:
            _register_held_key(actor, private, now)
        signed = st.sign_statement(statement, private)
        return {"statement": signed.statement.decode("utf-8"), "signature": st.encode_signature(signed.signature)}
    if not active:
        raise NotAllowed(_("Every act is signed with your own key, and you have none: make one on 'Your keys' "
                           "(your profile), or with 'councils keys new'."))
    key = named or next(iter(active))
    statement = expected_statement(act=act, council=council, object=object, at=now, key=key,
                                   content=content, content_sha256=content_sha256)
    _raise_required(statement, held_by_server=active[key][1])


def _raise_required(statement: st.Statement, *, held_by_server: bool):
    error = SignatureRequired(_("This act must be signed with your key: sign the statement and send the act again "
                                "with it (Councils-Statement and Councils-Signature headers, or the page's key script)."),
                              statement=statement.canonical().decode("utf-8"), held_by_server=held_by_server)
    collect = _required.get()
    if collect is not None:
        collect.append(error)
    raise error


def _bad_request(message: str, field: str = "statement") -> CouncilsError:
    return CouncilsError(message, field=field)


def _check_offer(actor, offer: Offer, active: dict, *, act, council, object, content, content_sha256, now) -> dict:
    if offer.statement is None or offer.signature is None:
        raise _bad_request(_("a signed act sends both the statement and its signature"))
    try:
        given = st.parse_statement(offer.statement)
    except st.StatementError as exc:
        raise _bad_request(_("the statement is malformed: %(error)s") % {"error": exc}) from None
    if offer.key is not None and offer.key != given.key:
        raise _bad_request(_("the statement names key %(given)s, not the key %(named)s the request names")
                           % {"given": given.key, "named": str(offer.key)[:40]}, "key")
    expected = expected_statement(act=act, council=council, object=object, at=given.at, key=given.key,
                                  content=content, content_sha256=content_sha256)
    if expected.canonical() != offer.statement:
        mine, theirs = expected.to_json(), given.to_json()
        field = next((name for name in ("act", "council", "object", "content", "content_sha256")
                      if mine.get(name) != theirs.get(name)), "statement")
        raise _bad_request(_("the signed statement's %(field)s is not this act's: sign the statement the server "
                             "sends (HTTP 428) for this very request") % {"field": field}, field)
    if abs(given.time() - now) > WINDOW:
        raise _bad_request(_("the statement's time %(at)s is more than %(minutes)s minutes from the server's clock: "
                             "sign it again now") % {"at": given.at, "minutes": int(WINDOW.total_seconds() // 60)}, "at")
    found = active.get(given.key)
    if found is None:
        raise BadSignature(_("key %(key)s is not an active key of yours (unknown, another member's, or revoked)") % {"key": given.key})
    try:
        signature = st.decode_signature(offer.signature)
    except st.StatementError as exc:
        raise _bad_request(_("the signature is malformed: %(error)s") % {"error": exc}, "signature") from None
    try:
        st.verify_statement(offer.statement, signature, st.decode_public_key(found[0]))
    except st.StatementError:
        raise BadSignature(_("the signature on this %(act)s does not verify with your key %(key)s") % {"act": act, "key": given.key}) from None
    _not_replayed(offer.statement, now)
    return {"statement": offer.statement.decode("utf-8"), "signature": offer.signature}


def _not_replayed(data: bytes, now) -> None:
    from councils.accounts.models import AcceptedStatement

    try:
        with transaction.atomic():
            AcceptedStatement.objects.create(digest=hashlib.sha256(data).hexdigest(), at=now)
    except IntegrityError:
        raise Conflict(_("this signed statement was accepted before (a replay): sign the act again"), field="statement") from None


# ----- keys ---------------------------------------------------------------------------------------------------------


MAX_LABEL = 80


def registration_statement(public_key: str, label: str, at) -> st.Statement:
    """The statement a new key signs to prove it is held by whoever registers it (proof of possession)."""
    raw = st.decode_public_key(public_key)
    kid = st.key_id(raw)
    return expected_statement(act="key.register", council=NO_COUNCIL, object=f"key:{kid}", at=at, key=kid,
                              content={"public_key": public_key, "label": label})


def register_key(actor, public_key: str, label: str = "", *, statement: str | bytes, signature: str,
                 held_by_server: bool = False, at=None):
    """Register ``public_key`` (base64url, raw 32 bytes) to ``actor``, proved by ``statement`` signed by that key.

    The registration is an entry on the member's chain ("key.registered"), carrying the signed statement."""
    from councils.accounts.models import MemberKey
    from councils.record.services import append

    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("Log in to register a key."))
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise Invalid(_("a key's label has at most %(max)s characters") % {"max": MAX_LABEL}, field="label")
    from councils.errors import refuse_control_characters

    refuse_control_characters(label, "label", line_breaks=False)
    try:
        raw = st.decode_public_key(public_key)
    except st.StatementError as exc:
        raise Invalid(f"public_key: {exc}", field="public_key") from None
    kid = st.key_id(raw)
    data = statement.encode("utf-8") if isinstance(statement, str) else statement
    # A key the server holds is registered inside the member's first act, at that act's moment: never after it.
    now = at or clock.now()
    try:
        given = st.parse_statement(data)
    except st.StatementError as exc:
        raise _bad_request(_("the statement is malformed: %(error)s") % {"error": exc}) from None
    expected = registration_statement(public_key, label, given.at)
    if expected.canonical() != data:
        raise _bad_request(_("the statement must be the key.register statement of this key and label "
                             "(act key.register, council -, object key:%(key)s, content public_key and label)") % {"key": kid})
    if abs(given.time() - now) > WINDOW:
        raise _bad_request(_("the statement's time is more than %(minutes)s minutes from the server's clock")
                           % {"minutes": int(WINDOW.total_seconds() // 60)}, "at")
    try:
        sig = st.decode_signature(signature)
        st.verify_statement(data, sig, raw)
    except st.StatementError:
        raise BadSignature(_("the statement is not signed by the key being registered (proof of possession)")) from None
    with transaction.atomic():
        if MemberKey.objects.filter(key_id=kid).exists():
            raise Conflict(_("this key is already registered"), field="public_key")
        key = MemberKey.objects.create(user=actor, key_id=kid, public_key=public_key, label=label,
                                       held_by_server=held_by_server, registered_at=now)
        append(member_chain(actor), kind="key.registered", subject=key.subject, state=key.record_state(), at=now,
               actor=actor, signed={"statement": data.decode("utf-8"), "signature": signature})
    return key


def _register_held_key(actor, private: bytes, now) -> None:
    public = st.encode_public_key(st.public_key_of(private))
    label = "held by this server (demo/test)"
    signed = st.sign_statement(registration_statement(public, label, now), private)
    register_key(actor, public, label, statement=signed.statement, signature=st.encode_signature(signed.signature),
                 held_by_server=True, at=now)


def revoke_key(actor, key_id: str):
    """Revoke one of one's keys (login suffices: a lost key must be revocable). Acts it signed stay valid: the
    record says when it was revoked. Membership is untouched; register a new key to act again."""
    from councils.accounts.models import MemberKey
    from councils.errors import NotFound
    from councils.record.services import append

    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("Log in to revoke a key."))
    with transaction.atomic():
        key = MemberKey.objects.select_for_update().filter(user=actor, key_id=str(key_id)[:64]).first()
        if key is None:
            raise NotFound(_("no such key of yours"))
        if key.revoked_at is None:
            now = clock.now()
            key.revoked_at = now
            key.save(update_fields=["revoked_at"])
            append(member_chain(actor), kind="key.revoked", subject=key.subject, state=key.record_state(), at=now,
                   actor=actor)
    return key


def keys_of(user):
    from councils.accounts.models import MemberKey

    return MemberKey.objects.filter(user=user)


def make_demo_keys(users) -> int:
    """The demo loader: a key for each demo member, kept by this server in DATA_DIR/demo-keys.json (said so on the
    pages: such a key proves nothing about its member), registered through the record like any key. Does nothing
    when another keyring was installed (the test suite's). Returns how many keys were made."""
    if _keyring[0] is not _UNSET:
        return 0
    path = demo_keyring_path()
    keys = json.loads(path.read_text()) if path.exists() else {}
    made = {user: st.generate_private_key() for user in users}
    keys.update({user.username: st.b64url(private) for user, private in made.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=1, sort_keys=True))
    path.chmod(0o600)
    _demo_rings.pop(str(path), None)
    now = clock.now()
    for user, private in made.items():
        _register_held_key(user, private, now)
    return len(made)
