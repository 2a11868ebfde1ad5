"""Messages between servers on the wire: HTTP requests signed with RFC 9421 HTTP Message Signatures, bodies in
canonical JSON (RFC 8785), carrying acts that keep their own signatures.

A message is a POST to the recipient's ``/api/federation/inbox`` with

* a body: one JSON object in RFC 8785 canonical form (see ``envelope``), refused when it is not canonical, so that
  the bytes signed, stored and relayed are the only form of the message;
* ``Content-Digest: sha-256=:<base64>:`` (RFC 9530) of the body;
* ``Signature-Input: councils=("@method" "@target-uri" "content-digest");created=<unix s>;keyid="<key id>";
  alg="ed25519";tag="councils-federation"`` and ``Signature: councils=:<base64 of 64 bytes>:`` (RFC 9421), the
  key ID being the sender's server key as ``<name>+<8 hex digits>`` (the first two parts of its signed-note vkey).

Pure: no Django, no clock (callers pass ``now``), no network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)
from http_message_signatures.digests import ContentDigest
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from councils.record import statement as st

LABEL = "councils"
TAG = "councils-federation"
COVERED = ("@method", "@target-uri", "content-digest")
WINDOW = timedelta(minutes=5)  # a message's ``created`` must be this close to the recipient's clock
FORMAT = "councils.message/v1"
MAX_BODY = 1_000_000


class Refused(Exception):
    """Why a message is not accepted: an HTTP status, a short code and words a person reads."""

    def __init__(self, status: int, code: str, detail: str, *, location: str = ""):
        super().__init__(detail)
        self.status, self.code, self.detail, self.location = status, code, detail, location

    def as_json(self) -> dict:
        answer = {"detail": self.detail, "code": self.code}
        if self.location:
            answer["location"] = self.location  # a council that moved away: where it is now
        return answer


@dataclass
class Request:
    """What RFC 9421 signs of a request (the interface ``http_message_signatures`` reads)."""

    method: str
    url: str
    headers: dict = field(default_factory=dict)


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, private: Ed25519PrivateKey | None = None, public: Ed25519PublicKey | None = None):
        self.private, self.public = private, public

    def resolve_private_key(self, key_id: str):
        return self.private

    def resolve_public_key(self, key_id: str):
        return self.public


class _Verifier(HTTPMessageVerifier):
    """The library checks ``created`` against the wall clock; the time window is checked here against the
    application's clock (``now``), so that tests can travel in time."""

    def validate_created_and_expires(self, sig_input, max_age=None):
        return None


def key_id_of(vkey: str) -> str:
    """The RFC 9421 keyid of a server: ``<name>+<key ID>`` of its signed-note verifier key."""
    name, hex_id, _ = vkey.split("+", 2)
    return f"{name}+{hex_id}"


def canonical(value) -> bytes:
    return st.canonical_json(value, "message")


def envelope(*, message_id: str, type: str, sender: str, recipient: str, at: datetime, payload: dict,
             acts: list[dict] | None = None) -> dict:
    """The message as a JSON object: who sends it to whom, when, what it asks (``payload``) and the signed acts it
    carries (``acts``: each ``{"statement": <text>, "signature": <b64url>, "public_key": <b64url>}``)."""
    return {"format": FORMAT, "id": message_id, "type": type, "from": sender, "to": recipient,
            "at": st.format_time(at), "payload": payload, "acts": list(acts or [])}


def sign_request(url: str, body: bytes, private_key: Ed25519PrivateKey, key_id: str, created: datetime) -> dict:
    """The headers of a signed POST of ``body`` to ``url``."""
    request = Request("POST", url, {"Content-Type": "application/json"})
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_Keys(private=private_key))
    signer.sign(request, key_id=key_id, created=created, label=LABEL, tag=TAG, covered_component_ids=COVERED, body=body)
    return request.headers


def signature_key_id(headers) -> str:
    """The keyid a request's signature names; Refused (401) when it carries no signature of ours."""
    raw = headers.get("Signature-Input") or headers.get("signature-input")
    if not raw or not (headers.get("Signature") or headers.get("signature")):
        raise Refused(401, "unsigned", "the message is not signed (RFC 9421 Signature and Signature-Input are needed)")
    try:
        parsed = http_sf.parse(raw.encode(), tltype="dictionary")
    except (ValueError, TypeError, UnicodeError):
        raise Refused(401, "unsigned", "the Signature-Input header is not a structured field dictionary") from None
    if LABEL not in parsed:
        raise Refused(401, "unsigned", f"no signature labelled {LABEL!r}")
    key_id = parsed[LABEL][1].get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise Refused(401, "unsigned", "the signature names no keyid")
    return key_id


def verify_request(method: str, url: str, headers, body: bytes, public_key: bytes, now: datetime) -> datetime:
    """Check a received request against the sender's pinned key: signature over method, target URI and digest,
    the digest over the body, ``created`` within ``WINDOW`` of ``now``. Returns ``created``; raises Refused."""
    if len(body) > MAX_BODY:
        raise Refused(413, "too_large", f"a message has at most {MAX_BODY} bytes")
    digest = headers.get("Content-Digest") or headers.get("content-digest")
    if not digest:
        raise Refused(400, "no_digest", "the message has no Content-Digest")
    try:
        ContentDigest.verify(digest, body)
    except HTTPMessageSignaturesException:
        raise Refused(400, "bad_digest", "the Content-Digest does not match the body") from None
    request = Request(method, url, {k: v for k, v in headers.items()})
    verifier = _Verifier(signature_algorithm=algorithms.ED25519,
                                   key_resolver=_Keys(public=Ed25519PublicKey.from_public_bytes(public_key)))
    try:
        results = verifier.verify(request, max_age=None, expect_tag=TAG, require_components=COVERED, body=body)
    except HTTPMessageSignaturesException as error:
        raise Refused(401, "bad_signature", f"the message signature does not verify: {error}") from None
    created = results[0].parameters.get("created")
    if type(created) is not int:
        raise Refused(401, "bad_signature", "the message signature has no created time")
    created = datetime.fromtimestamp(created, tz=UTC)
    if abs(now - created) > WINDOW:
        raise Refused(401, "stale", f"the message was signed at {created:%Y-%m-%d %H:%M:%S} UTC, more than "
                      f"{int(WINDOW.total_seconds() // 60)} minutes from this server's clock")
    return created


def parse_envelope(body: bytes, sender: str, recipient: str) -> dict:
    """The body as a message to ``recipient`` from ``sender``, in canonical form; Refused (400/403) otherwise."""
    try:
        message = json.loads(body)
    except ValueError:
        raise Refused(400, "malformed", "the body is not JSON") from None
    if not isinstance(message, dict) or message.get("format") != FORMAT:
        raise Refused(400, "malformed", f"the body is not a {FORMAT} object")
    try:
        if canonical(message) != body:
            raise Refused(400, "not_canonical", "the body is not in RFC 8785 canonical form")
    except st.StatementError as error:
        raise Refused(400, "malformed", str(error)) from None
    for name, kind in (("id", str), ("type", str), ("from", str), ("to", str), ("at", str), ("payload", dict),
                       ("acts", list)):
        if not isinstance(message.get(name), kind):
            raise Refused(400, "malformed", f"the message's {name!r} is missing or not a {kind.__name__}")
    if not 8 <= len(message["id"]) <= 64:
        raise Refused(400, "malformed", "a message id has 8 to 64 characters")
    if message["from"] != sender:
        raise Refused(403, "not_the_sender", f"the message says it is from {message['from']!r} but is signed by {sender!r}")
    if message["to"] != recipient:
        raise Refused(403, "not_the_recipient", f"the message is for {message['to']!r}, not this server ({recipient!r})")
    try:
        st.parse_time(message["at"])
    except st.StatementError as error:
        raise Refused(400, "malformed", f"at: {error}") from None
    return message


def sign_act(statement: st.Statement, private_key: bytes) -> dict:
    signed = st.sign_statement(statement, private_key)
    return {"statement": signed.statement.decode(), "signature": st.encode_signature(signed.signature),
            "public_key": st.encode_public_key(st.public_key_of(private_key))}


def verify_acts(acts: list) -> list[tuple[st.Statement, bytes]]:
    """Each carried act's statement, checked against its signature and key: Refused (403) at the first that fails."""
    checked = []
    for number, act in enumerate(acts, 1):
        if not isinstance(act, dict) or not all(isinstance(act.get(k), str) for k in ("statement", "signature", "public_key")):
            raise Refused(400, "malformed", f"act {number} needs statement, signature and public_key as strings")
        try:
            key = st.decode_public_key(act["public_key"])
            statement = st.verify_statement(act["statement"].encode(), st.decode_signature(act["signature"]), key)
        except st.BadStatementSignature:
            raise Refused(403, "bad_act_signature", f"act {number}'s signature does not verify with its key") from None
        except st.StatementError as error:
            raise Refused(400, "malformed", f"act {number}: {error}") from None
        checked.append((statement, key))
    return checked
