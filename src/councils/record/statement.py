"""A member's signed act: a statement in canonical JSON, signed with the member's own Ed25519 key.

The statement is one JSON object, serialised by RFC 8785 (JSON Canonicalization
Scheme: keys sorted by UTF-16 code units, no insignificant white space, numbers
as ECMAScript writes them), so that a browser, an API client and any verifier
produce the same bytes, and the signature covers exactly those bytes::

    {"act": "ballot.cast",                      what is done: dotted lowercase name
     "at": "2030-05-01T12:00:00.000000Z",       when, as the member's client says, UTC, microseconds
     "content": {...}                           the act's content (any JSON value), or instead
     "content_sha256": "<64 hex>",              SHA-256 of the content's RFC 8785 bytes
     "council": "river-valley",                 the council the act belongs to
     "key": "<32 hex>",                         key ID of the signing key (see key_id)
     "object": "proposal:12",                   what the act is about
     "type": "councils.statement/v1"}           this format; keeps the signature to this use

Exactly these keys, with exactly one of ``content`` and ``content_sha256``.
``content_sha256`` is for content that must not be published with the act (a
secret ballot's participation names the ballot by hash only) or is large.

Encodings, chosen so a browser's WebCrypto output is used as is:

* public key: base64url without padding of the raw 32 bytes (43 characters);
  this is ``exportKey("raw", key)`` base64url-encoded, and equal to the ``x``
  member of ``exportKey("jwk", key)``;
* signature: base64url without padding of the 64 bytes (86 characters), as
  ``sign("Ed25519", key, statementBytes)`` returns them;
* key ID: the first 16 bytes of SHA-256(raw public key), in lowercase hex.

Pure: the caller passes times and keys. ``generate_private_key`` draws
randomness; ``verify_many`` and ``verify_statements`` may start worker
processes for large batches. Keys of small order and signatures with a
small-order R are refused (``councils.record.ed25519``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from councils.record.ed25519 import public_key_problem, signature_problem

FORMAT = "councils.statement/v1"
FIELDS = frozenset({"type", "act", "council", "object", "at", "key"})
MAX_NAME = 200  # act, council and object are identifiers, not prose

_ACT = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_AT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{32}")


class StatementError(ValueError):
    """A statement, key or signature that is not well formed; the message names the field."""


class BadStatementSignature(StatementError):
    """A well-formed statement whose signature does not verify with the given key."""


class _NoContent:
    """The ``content`` of a statement that carries ``content_sha256`` instead (None is JSON null)."""

    def __repr__(self) -> str:
        return "<no content: see content_sha256>"


_NO_CONTENT = _NoContent()


# --- canonical JSON ------------------------------------------------------------------------------


def canonical_json(value: Any, what: str = "value") -> bytes:
    """RFC 8785 bytes of a JSON value.

    Refused, with the reason: NaN and infinities, integers beyond 2**53 (JSON
    numbers are doubles to a browser), non-string keys, and anything that is not
    JSON (bytes, sets, dates).

    Most statements hold only strings, integers, booleans and nulls, with keys
    below U+E000; for those, Python's own sorted compact JSON is byte for byte
    RFC 8785 (UTF-16 and code point order agree there, and integers have one
    spelling), and the C encoder is several times faster than the ``rfc8785``
    package, which writes everything else (floats above all). The tests check
    the two agree on generated values.
    """
    if _plain(value):
        try:
            return _dumps(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 say what is wrong
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise StatementError(f"{what} cannot be written as canonical JSON: {exc}") from None


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode
_SAFE_INT = 2**53 - 1


def _plain(value: Any) -> bool:
    """True when Python's sorted compact JSON of ``value`` is its RFC 8785 form."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return -_SAFE_INT <= value <= _SAFE_INT
    if kind is dict:
        try:
            keys = "".join(value)  # all keys are strings, else TypeError
        except TypeError:
            return False
        if keys and max(keys) >= "\ue000":
            return False
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return False  # floats, subclasses, and what JSON cannot hold
    for item in items:
        if type(item) is not str and not _plain(item):
            return False
    return True


def content_sha256(content: Any) -> str:
    """The hex SHA-256 of a content's RFC 8785 bytes: what ``content_sha256`` holds."""
    return hashlib.sha256(canonical_json(content, "content")).hexdigest()


# --- keys and encodings --------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str, size: int, what: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise StatementError(f"{what} must be base64url without padding")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise StatementError(f"{what} is not valid base64url") from None
    if len(data) != size:
        raise StatementError(f"{what} must encode {size} bytes, not {len(data)}")
    if b64url(data) != text:
        raise StatementError(f"{what} is not canonical base64url")
    return data


def check_public_key(public_key: bytes) -> None:
    """Refuse keys no signature should be checked with (wrong size, small order, non-canonical)."""
    problem = public_key_problem(public_key)
    if problem:
        raise StatementError(problem)


def encode_public_key(public_key: bytes) -> str:
    check_public_key(public_key)
    return b64url(public_key)


def decode_public_key(text: str) -> bytes:
    """A member's public key from its base64url form, refused when it is not a usable key."""
    public_key = _unb64url(text, 32, "public key")
    check_public_key(public_key)
    return public_key


def public_key_from_jwk(jwk: dict) -> bytes:
    """The raw key of a WebCrypto ``exportKey("jwk", publicKey)`` Ed25519 key."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise StatementError('a public key JWK must have "kty": "OKP" and "crv": "Ed25519"')
    if "d" in jwk:
        raise StatementError("this JWK holds a private key: send only the public key")
    return decode_public_key(jwk.get("x", ""))


def encode_signature(signature: bytes) -> str:
    if len(signature) != 64:
        raise StatementError(f"an Ed25519 signature has 64 bytes, not {len(signature)}")
    return b64url(signature)


def decode_signature(text: str) -> bytes:
    return _unb64url(text, 64, "signature")


def key_id(public_key: bytes) -> str:
    """The ``key`` of a statement: first 16 bytes of SHA-256(raw public key), hex."""
    if len(public_key) != 32:
        raise StatementError(f"an Ed25519 public key has 32 bytes, not {len(public_key)}")
    return hashlib.sha256(public_key).digest()[:16].hex()


def generate_private_key() -> bytes:
    """A new 32-byte Ed25519 private key (seed), from the operating system's randomness."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def public_key_of(private_key: bytes) -> bytes:
    return _private(private_key).public_key().public_bytes_raw()


def _private(private_key: bytes) -> Ed25519PrivateKey:
    if not isinstance(private_key, (bytes, bytearray)) or len(private_key) != 32:
        raise StatementError("an Ed25519 private key (seed) has 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(bytes(private_key))


# --- time ----------------------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, from a timezone-aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StatementError("a statement's time must be timezone-aware (naive times are ambiguous)")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    match = _AT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise StatementError(f"at {str(text)[:40]!r} must be UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        return datetime(*map(int, match.groups()), tzinfo=timezone.utc)
    except ValueError:
        raise StatementError(f"at {text!r} is not a real date and time") from None


# --- statements ----------------------------------------------------------------------------------


def _check_name(field: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise StatementError(f"{field} must be a non-empty string")
    if len(value) > MAX_NAME:
        raise StatementError(f"{field} is longer than {MAX_NAME} characters")
    if _CONTROL.search(value):
        raise StatementError(f"{field} must not contain control characters")


@dataclass(frozen=True)
class Statement:
    """One act, as its author signs it. Build with ``Statement(...)``; it validates itself."""

    act: str
    council: str
    object: str
    at: str
    key: str
    content: Any = _NO_CONTENT
    content_sha256: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.act, str) or not _ACT.fullmatch(self.act) or len(self.act) > MAX_NAME:
            raise StatementError(f"act {self.act!r} must be a dotted lowercase name such as 'ballot.cast'")
        _check_name("council", self.council)
        _check_name("object", self.object)
        parse_time(self.at)
        if not isinstance(self.key, str) or not _KEY_ID.fullmatch(self.key):
            raise StatementError("key must be a key ID: 32 lowercase hex digits")
        has_content = self.content is not _NO_CONTENT
        if has_content == (self.content_sha256 is not None):
            raise StatementError("a statement has exactly one of content and content_sha256")
        if has_content:
            if not _plain(self.content):
                canonical_json(self.content, "content")  # raises when it is not JSON
        elif not isinstance(self.content_sha256, str) or not _HEX64.fullmatch(self.content_sha256):
            raise StatementError("content_sha256 must be 64 lowercase hex digits")

    @property
    def has_content(self) -> bool:
        return self.content is not _NO_CONTENT

    def content_digest(self) -> str:
        """The content's SHA-256, given or computed: equal for the two forms of one act."""
        return content_sha256(self.content) if self.has_content else self.content_sha256  # type: ignore[return-value]

    def to_json(self) -> dict:
        body = {"type": FORMAT, "act": self.act, "council": self.council, "object": self.object, "at": self.at, "key": self.key}
        if self.has_content:
            body["content"] = self.content
        else:
            body["content_sha256"] = self.content_sha256
        return body

    def canonical(self) -> bytes:
        """The bytes that are signed and stored."""
        return canonical_json(self.to_json(), "statement")

    def time(self) -> datetime:
        return parse_time(self.at)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise StatementError(f"statement has the key {key!r} twice")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise StatementError(f"statement contains {name}, which JSON does not allow")


def parse_statement(data: bytes) -> Statement:
    """Read signed statement bytes, refusing anything that is not exactly a canonical statement.

    The bytes must be the RFC 8785 form of the object they hold: a statement
    with another spelling of the same fields is refused, so one act has one
    byte string and one signature check.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise StatementError("a statement is bytes (UTF-8 JSON)")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise StatementError("statement is not UTF-8") from None
    try:
        body = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise StatementError(f"statement is not JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(body, dict):
        raise StatementError("a statement is a JSON object")
    if body.get("type") != FORMAT:
        raise StatementError(f"statement type must be {FORMAT!r}, got {str(body.get('type'))[:40]!r}")
    keys = set(body)
    extra = keys - FIELDS - {"content", "content_sha256"}
    if extra:
        raise StatementError(f"statement has unknown field(s): {', '.join(sorted(extra))}")
    missing = FIELDS - keys
    if missing:
        raise StatementError(f"statement lacks field(s): {', '.join(sorted(missing))}")
    statement = Statement(
        act=body["act"],
        council=body["council"],
        object=body["object"],
        at=body["at"],
        key=body["key"],
        content=body.get("content", _NO_CONTENT),
        content_sha256=body.get("content_sha256"),
    )
    if statement.canonical() != bytes(data):
        raise StatementError("statement is not in canonical form (RFC 8785)")
    return statement


@dataclass(frozen=True)
class SignedStatement:
    statement: bytes  # canonical JSON, as signed
    signature: bytes  # 64 bytes

    def to_json(self) -> dict:
        """A transport form: the statement as text and the signature in base64url."""
        return {"statement": self.statement.decode("utf-8"), "signature": encode_signature(self.signature)}


def sign_statement(statement: Statement, private_key: bytes) -> SignedStatement:
    """Sign as a member's client does; refuses a key that is not the one the statement names."""
    key = _private(private_key)
    public = key.public_key().public_bytes_raw()
    if key_id(public) != statement.key:
        raise StatementError("the statement names another key than the one signing it")
    data = statement.canonical()
    return SignedStatement(statement=data, signature=key.sign(data))


def verify_statement(data: bytes, signature: bytes, public_key: bytes) -> Statement:
    """Check one signed statement with its author's public key; returns the parsed statement.

    Raises StatementError when the statement is malformed or names another key,
    BadStatementSignature when the signature does not verify.
    """
    statement = parse_statement(data)
    check_public_key(public_key)
    if key_id(public_key) != statement.key:
        raise StatementError(f"the statement names key {statement.key}, not this key {key_id(public_key)}")
    if signature_problem(signature) or not _verify(Ed25519PublicKey.from_public_bytes(public_key), data, signature):
        raise BadStatementSignature(f"the signature on {statement.act} of {statement.object} does not verify")
    return statement


def _verify(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


# --- many signatures at once ---------------------------------------------------------------------

SignatureCheck = tuple[bytes, bytes, bytes]  # (statement bytes or any message, signature, public key)


def _failures(items: Sequence[SignatureCheck], offset: int, full: bool) -> list[tuple[int, str]]:
    """(index + offset, reason) for each item that fails.

    Public keys are loaded once per distinct key: a record has many acts per member.
    With ``full``, each statement is also parsed and must name the key it is checked with.
    """
    keys: dict[bytes, Ed25519PublicKey | str] = {}
    bad = []
    for i, (message, signature, public_key) in enumerate(items):
        key = keys.get(public_key)
        if key is None:
            problem = public_key_problem(public_key)
            key = problem if problem else Ed25519PublicKey.from_public_bytes(public_key)
            keys[public_key] = key
        if isinstance(key, str):
            bad.append((offset + i, key))
            continue
        if full:
            try:
                statement = parse_statement(message)
            except StatementError as exc:
                bad.append((offset + i, str(exc)))
                continue
            if statement.key != key_id(public_key):
                bad.append((offset + i, f"the statement names key {statement.key}, not this key {key_id(public_key)}"))
                continue
        if signature_problem(signature) or not _verify(key, message, signature):
            bad.append((offset + i, "the signature does not verify"))
    return bad


def _chunk_failures(args: tuple[list[SignatureCheck], int, bool]) -> list[tuple[int, str]]:
    return _failures(*args)


def default_processes() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _run(
    items: Sequence[SignatureCheck], full: bool, processes: int | None, parallel_from: int, chunk: int, mp_context: str | None
) -> list[tuple[int, str]]:
    n = len(items)
    processes = default_processes() if processes is None else processes
    if processes <= 1 or n < parallel_from:
        return _failures(items, 0, full)
    if mp_context is None:
        mp_context = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(mp_context)
    jobs = ((list(items[start : start + chunk]), start, full) for start in range(0, n, chunk))
    bad: list[tuple[int, str]] = []
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        for failures in pool.map(_chunk_failures, jobs):
            bad.extend(failures)
    return bad


def verify_many(
    items: Sequence[SignatureCheck],
    *,
    processes: int | None = None,
    parallel_from: int = 20_000,
    chunk: int = 10_000,
    mp_context: str | None = None,
) -> list[int]:
    """Check many Ed25519 signatures (message, signature, public key); returns the indices that fail.

    Signatures only, the costly part; ``verify_statements`` also parses each
    statement. Batches of ``parallel_from`` or more are split into chunks over
    ``processes`` worker processes (default: the CPUs this process may use),
    started with ``mp_context`` (default "forkserver" where the platform has it,
    which is safe from threaded servers, else "spawn"). A key that is refused
    (``check_public_key``) fails every item it is given for.
    """
    return [i for i, _ in _run(items, False, processes, parallel_from, chunk, mp_context)]


def verify_statements(
    items: Sequence[SignatureCheck],
    *,
    processes: int | None = None,
    parallel_from: int = 20_000,
    chunk: int = 10_000,
    mp_context: str | None = None,
) -> list[tuple[int, str]]:
    """Check many signed statements (statement bytes, signature, public key) as ``verify_statement`` does.

    Returns (index, reason) for each one that fails, in order; an empty list
    when all hold. Parallel as ``verify_many``.
    """
    return _run(items, True, processes, parallel_from, chunk, mp_context)
