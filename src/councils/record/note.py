"""Signed notes, checkpoints and cosignatures, as the transparency-log ecosystem writes them.

Three C2SP specifications, byte for byte, so that existing tools (Go's
``sumdb/note``, transparency-dev witnesses, Sigstore) read what we write:

* ``c2sp.org/signed-note``: a UTF-8 text ending in a newline, a blank line, then
  one or more lines ``— <key name> <base64(4-byte key ID || signature)>``.
  Ed25519 keys (signature type 0x01) sign the text; the key ID is
  ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``. Keys are written as Go's
  ``note`` package writes them: verifier key ``<name>+<hex key ID>+<base64(0x01 || public key)>``,
  signer key ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``.
* ``c2sp.org/tlog-checkpoint``: the note text of a log's tree head: origin line,
  tree size in decimal, base64 root hash, optional extension lines.
* ``c2sp.org/tlog-cosignature`` (Ed25519, signature type 0x04): a witness signs
  ``cosignature/v1\\ntime <T>\\n`` followed by the checkpoint text, and its
  signature line carries the 8-byte big-endian time before the 64-byte signature.

Everything here is pure: the caller passes keys and times; only
``SignerKey.generate`` draws randomness (from the operating system, through
``cryptography``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from councils.record.ed25519 import public_key_problem, signature_problem

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04  # timestamped Ed25519 checkpoint cosignature
_ALGORITHMS = {ALG_ED25519: "Ed25519", ALG_COSIGNATURE_V1: "Ed25519 cosignature/v1"}

EM_DASH = "\u2014"
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
MAX_TIMESTAMP = 2**63 - 1


class NoteError(ValueError):
    """A note, key or checkpoint that is not well formed; the message names the part."""


class SignatureError(ValueError):
    """A well-formed note whose signatures do not verify."""


class UnverifiedNote(SignatureError):
    """No signature from a known key: the note's text must be ignored."""


class BadSignature(SignatureError):
    """A signature by a known key (name and key ID) that does not verify."""


# --- encodings -----------------------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4, padded): one spelling per byte string."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not valid base64: {text[:80]!r}") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64: {text[:80]!r}")
    return data


def is_valid_name(name: str) -> bool:
    """Key names (and our origins) are non-empty, with no Unicode space and no '+'."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 for ch in name)
    )


def _check_name(name: str, what: str = "key name") -> None:
    if not is_valid_name(name):
        raise NoteError(f"{what} {name!r} must be non-empty, without spaces or '+'")


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()[:4]


def _parse_key_id(text: str, what: str) -> bytes:
    if not re.fullmatch(r"[0-9a-f]{8}", text):
        raise NoteError(f"{what} key ID {text!r} must be 8 lowercase hex digits")
    return bytes.fromhex(text)


# --- keys ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key (note signer, or a witness's cosignature key)."""

    name: str
    alg: int
    public_key: bytes
    _key: Ed25519PublicKey = field(repr=False, compare=False, hash=False, default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.alg not in _ALGORITHMS:
            raise NoteError(f"verifier key {self.name!r}: unknown signature type {self.alg:#04x}")
        problem = public_key_problem(self.public_key)
        if problem:
            raise NoteError(f"verifier key {self.name!r}: {problem}")
        if self._key is None:
            object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public_key)

    @classmethod
    def parse(cls, vkey: str) -> "VerifierKey":
        """Read ``<name>+<hex key ID>+<base64(type || public key)>``, checking the key ID."""
        parts = vkey.split("+", 2)  # base64 may hold '+' itself
        if len(parts) != 3:
            raise NoteError(f"verifier key {vkey[:80]!r} must be <name>+<key ID>+<key>")
        name, hex_id, key64 = parts
        _check_name(name, "verifier key name")
        kid = _parse_key_id(hex_id, "verifier key")
        raw = b64decode(key64, "verifier key")
        if not raw:
            raise NoteError("verifier key is empty")
        key = cls(name=name, alg=raw[0], public_key=raw[1:])
        if key.key_id != kid:
            raise NoteError(f"verifier key {name!r}: key ID {hex_id} does not match the key")
        return key

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.alg]) + self.public_key)}"

    encode = __str__

    def verify(self, message: bytes, signature: bytes) -> bool:
        if signature_problem(signature):
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SignerKey:
    """A named Ed25519 private key. ``repr`` never shows the seed."""

    name: str
    alg: int
    seed: bytes = field(repr=False)
    _key: Ed25519PrivateKey = field(repr=False, compare=False, hash=False, default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.alg not in _ALGORITHMS:
            raise NoteError(f"signer key {self.name!r}: unknown signature type {self.alg:#04x}")
        if len(self.seed) != 32:
            raise NoteError(f"signer key {self.name!r}: an Ed25519 seed has 32 bytes, not {len(self.seed)}")
        if self._key is None:
            object.__setattr__(self, "_key", Ed25519PrivateKey.from_private_bytes(self.seed))

    @classmethod
    def generate(cls, name: str, alg: int = ALG_ED25519) -> "SignerKey":
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name=name, alg=alg, seed=seed)

    @classmethod
    def parse(cls, skey: str) -> "SignerKey":
        """Read ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>``, checking the key ID."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key must be PRIVATE+KEY+<name>+<key ID>+<key>")
        name, hex_id, key64 = parts[2:]
        _check_name(name, "signer key name")
        kid = _parse_key_id(hex_id, "signer key")
        try:
            raw = b64decode(key64, "signer key")
        except NoteError:
            raise NoteError("signer key is not valid base64") from None  # never echo a secret
        if not raw:
            raise NoteError("signer key is empty")
        key = cls(name=name, alg=raw[0], seed=raw[1:])
        if key.key_id != kid:
            raise NoteError(f"signer key {name!r}: key ID {hex_id} does not match the key")
        return key

    def encode(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.alg]) + self.seed)}"

    @property
    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public_key)

    def verifier(self) -> VerifierKey:
        return VerifierKey(name=self.name, alg=self.alg, public_key=self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


# --- notes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after the key ID.

    For a cosignature (type 0x04) ``signature`` is the 8-byte time followed by the
    64-byte Ed25519 signature, and ``timestamp`` reads the time.
    """

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64encode(self.key_id + self.signature)}\n"

    @property
    def timestamp(self) -> int | None:
        if len(self.signature) != 72:
            return None
        return struct.unpack(">Q", self.signature[:8])[0]


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...] = ()

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _check_note_characters(data: str, what: str) -> None:
    for i, ch in enumerate(data):
        if ord(ch) < 0x20 and ch != "\n":
            line = data.count("\n", 0, i) + 1
            raise NoteError(f"{what} line {line} contains the control character {ch!r}")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in data):
        raise NoteError(f"{what} is not valid UTF-8")


def check_text(text: str) -> None:
    """A note text: UTF-8 without control characters other than newline, ending in a newline."""
    if not isinstance(text, str):
        raise NoteError("note text must be a str")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_note_characters(text, "note text")


def parse_note(data: bytes | str) -> Note:
    """Split a signed note into its text and signature lines, refusing any malformed part.

    Checks form only; ``open_note`` checks the signatures.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    _check_note_characters(data, "note")
    split = data.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = data[: split + 1], data[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteError("note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    first_line = text.count("\n") + 2
    signatures = []
    for n, line in enumerate(lines, start=first_line):
        if not line.startswith(EM_DASH + " "):
            raise NoteError(f"note line {n} is not a signature line (— <name> <signature>)")
        fields = line[2:].split(" ")
        if len(fields) != 2:
            raise NoteError(f"note line {n}: a signature line is '— <name> <base64 signature>'")
        name, sig64 = fields
        if not is_valid_name(name):
            raise NoteError(f"note line {n}: key name {name!r} is not valid")
        raw = b64decode(sig64, f"note line {n} signature")
        if len(raw) < 5:
            raise NoteError(f"note line {n}: signature is too short")
        signatures.append(NoteSignature(name=name, key_id=raw[:4], signature=raw[4:]))
    return Note(text=text, signatures=tuple(signatures))


def _signed_message(alg: int, text: str, signature: bytes) -> tuple[bytes, bytes] | None:
    """The message and raw Ed25519 signature a signature line of this type covers."""
    if alg == ALG_ED25519:
        return text.encode("utf-8"), signature
    if len(signature) != 72:
        return None
    timestamp = struct.unpack(">Q", signature[:8])[0]
    if timestamp > MAX_TIMESTAMP:
        return None
    return cosigned_message(text, timestamp), signature[8:]


def sign_note(text: str, signers: Iterable[SignerKey], *, keep: Iterable[NoteSignature] = ()) -> str:
    """A signed note of ``text`` by every signer (type 0x01 keys only; cosign with ``cosign``).

    ``keep`` carries signatures already on the note (say, from ``parse_note``) that
    are kept after the new ones, unless a new signer has the same name and key ID.
    """
    check_text(text)
    new = []
    for signer in signers:
        if signer.alg != ALG_ED25519:
            raise NoteError(f"signer {signer.name!r} is a cosignature key: use cosign()")
        new.append(NoteSignature(signer.name, signer.key_id, signer.sign(text.encode("utf-8"))))
    if not new and not keep:
        raise NoteError("a note needs at least one signature")
    fresh = {(s.name, s.key_id) for s in new}
    kept = [s for s in keep if (s.name, s.key_id) not in fresh]
    return Note(text, tuple(new + kept)).encode()


def add_signatures(note: str | bytes, signatures: Iterable[NoteSignature]) -> str:
    """The note with more signature lines (say, witnesses' cosignatures) after its own."""
    parsed = parse_note(note)
    have = {(s.name, s.key_id) for s in parsed.signatures}
    extra = [s for s in signatures if (s.name, s.key_id) not in have]
    return Note(parsed.text, parsed.signatures + tuple(extra)).encode()


@dataclass(frozen=True)
class OpenedNote:
    """A note whose text a known key vouches for."""

    text: str
    verified: tuple[NoteSignature, ...]  # by a known key, checked
    unknown: tuple[NoteSignature, ...]  # by keys the caller did not name, ignored

    def signed_by(self, key: VerifierKey) -> NoteSignature | None:
        for s in self.verified:
            if s.name == key.name and s.key_id == key.key_id:
                return s
        return None


def open_note(data: bytes | str, known: Sequence[VerifierKey]) -> OpenedNote:
    """Parse and verify a signed note against the keys the caller trusts.

    As the spec says: lines by keys whose name and key ID are not both known are
    ignored; a line by a known key that fails to verify rejects the whole note
    (``BadSignature``); a note with no verified line is rejected (``UnverifiedNote``).
    Known keys may be note keys (0x01) or cosigner keys (0x04).
    """
    note = parse_note(data)
    by_id: dict[tuple[str, bytes], VerifierKey] = {}
    for key in known:
        ident = (key.name, key.key_id)
        if ident in by_id and by_id[ident] != key:
            raise NoteError(f"two known keys share name {key.name!r} and key ID {key.key_id.hex()}")
        by_id[ident] = key
    verified, unknown = [], []
    for sig in note.signatures:
        key = by_id.get((sig.name, sig.key_id))
        if key is None:
            unknown.append(sig)
            continue
        signed = _signed_message(key.alg, note.text, sig.signature)
        if signed is None or not key.verify(*signed):
            raise BadSignature(f"the signature by {sig.name} (key {sig.key_id.hex()}) does not verify")
        verified.append(sig)
    if not verified:
        raise UnverifiedNote("no signature on the note is by a known key")
    return OpenedNote(text=note.text, verified=tuple(verified), unknown=tuple(unknown))


# --- checkpoints (c2sp.org/tlog-checkpoint) -----------------------------------------------------

_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The spec lets an origin be any non-empty line (and tells clients not to
        # assume more), though it recommends a key-name-like URL such as ours.
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise NoteError(f"checkpoint origin must be one non-empty line, got {self.origin!r}")
        _check_note_characters(self.origin, "checkpoint origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_TIMESTAMP:
            raise NoteError(f"checkpoint tree size must be an integer from 0 to 2**63-1, got {self.size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise NoteError("checkpoint root hash must be 32 bytes")
        for i, ext in enumerate(self.extensions):
            if not ext or "\n" in ext:
                raise NoteError(f"checkpoint extension line {i + 1} must be one non-empty line")
            _check_note_characters(ext, f"checkpoint extension {i + 1}")

    def text(self) -> str:
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's note text (the signed part), refusing anything not exactly in form."""
    check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(f"checkpoint has {len(lines)} lines, needs origin, tree size and root hash")
    origin, size, root, *extensions = lines
    if not origin:
        raise NoteError("checkpoint line 1 (origin) is empty")
    if not _SIZE.fullmatch(size):
        raise NoteError(f"checkpoint line 2: tree size {size[:40]!r} is not a decimal number without leading zeros")
    root_hash = b64decode(root, "checkpoint line 3 (root hash)")
    if len(root_hash) != 32:
        raise NoteError(f"checkpoint line 3: root hash has {len(root_hash)} bytes, not 32")
    for i, ext in enumerate(extensions, start=4):
        if not ext:
            raise NoteError(f"checkpoint line {i} (extension) is empty")
    if int(size) > MAX_TIMESTAMP:
        raise NoteError("checkpoint line 2: tree size is larger than 2**63-1")
    return Checkpoint(origin=origin, size=int(size), root_hash=root_hash, extensions=tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: SignerKey) -> str:
    return sign_note(checkpoint.text(), [signer])


@dataclass(frozen=True)
class OpenedCheckpoint:
    checkpoint: Checkpoint
    note: OpenedNote
    cosignatures: tuple[tuple[VerifierKey, int], ...]  # (witness key, time it cosigned)


def open_checkpoint(
    data: bytes | str, log_key: VerifierKey, witnesses: Sequence[VerifierKey] = ()
) -> OpenedCheckpoint:
    """Verify a checkpoint signed by ``log_key``, and the cosignatures of any of ``witnesses`` on it.

    The log's own signature is required; a checkpoint whose log signature is
    missing raises UnverifiedNote even when witnesses cosigned it.
    """
    opened = open_note(data, [log_key, *witnesses])
    if opened.signed_by(log_key) is None:
        raise UnverifiedNote(f"the checkpoint is not signed by the log key {log_key.name}+{log_key.key_id.hex()}")
    checkpoint = parse_checkpoint(opened.text)
    cosigned = []
    for key in witnesses:
        sig = opened.signed_by(key)
        if sig is not None and key.alg == ALG_COSIGNATURE_V1:
            cosigned.append((key, sig.timestamp))
    return OpenedCheckpoint(checkpoint=checkpoint, note=opened, cosignatures=tuple(cosigned))


# --- cosignatures (c2sp.org/tlog-cosignature, Ed25519) -------------------------------------------


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What an Ed25519 cosigner signs: ``cosignature/v1``, ``time <T>``, then the checkpoint text."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature time must be a POSIX time from 0 to 2**63-1, got {timestamp!r}")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode("utf-8")


def cosign(checkpoint_text: str, signer: SignerKey, timestamp: int) -> NoteSignature:
    """A witness's cosignature line on a checkpoint it has checked, at ``timestamp`` (POSIX seconds).

    The caller (the witness) must first have checked the checkpoint is
    consistent with the last one it cosigned: the signature says so.
    """
    if signer.alg != ALG_COSIGNATURE_V1:
        raise NoteError(f"key {signer.name!r} is not a cosignature (type 0x04) key")
    parse_checkpoint(checkpoint_text)
    sig = signer.sign(cosigned_message(checkpoint_text, timestamp))
    return NoteSignature(signer.name, signer.key_id, struct.pack(">Q", timestamp) + sig)
