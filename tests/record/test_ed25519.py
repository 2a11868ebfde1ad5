"""Keys and signatures refused before any library sees them, so every verifier gives one answer."""

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from councils.record.ed25519 import L, P, SMALL_ORDER_YS, public_key_problem, signature_problem
from councils.record.note import SignerKey, VerifierKey
from councils.record.statement import BadStatementSignature, Statement, key_id, public_key_of, verify_many, verify_statement

SEED = bytes(range(32))
IDENTITY = bytes([1]) + bytes(31)


def identity_r_signature(seed: bytes, message: bytes) -> bytes:
    """R = identity, S = k * a: valid for OpenSSL's equation, made by the key's holder."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    public = public_key_of(seed)
    k = int.from_bytes(hashlib.sha512(IDENTITY + public + message).digest(), "little") % L
    return IDENTITY + (k * a % L).to_bytes(32, "little")


def test_there_are_five_small_order_y_coordinates():
    # y = 1 (identity), -1 (order 2), 0 (two points of order 4), and two for the four points of order 8
    assert len(SMALL_ORDER_YS) == 5 and {0, 1, P - 1} < SMALL_ORDER_YS


def test_ordinary_keys_and_signatures_pass():
    assert public_key_problem(public_key_of(SEED)) is None
    signer = SignerKey("a.example", 1, SEED)
    assert signature_problem(signer.sign(b"m")) is None


def test_a_signature_with_identity_r_passes_openssl_but_not_us():
    message = b"an act"
    sig = identity_r_signature(SEED, message)
    Ed25519PublicKey.from_public_bytes(public_key_of(SEED)).verify(sig, message)  # a bare library accepts it
    assert signature_problem(sig) == "the signature's R is not a usable point"
    assert verify_many([(message, sig, public_key_of(SEED))], processes=1) == [0]
    statement = Statement(act="a", council="c", object="o", at="2030-01-01T00:00:00.000000Z", key=key_id(public_key_of(SEED)), content=1)
    data = statement.canonical()
    with pytest.raises(BadStatementSignature):
        verify_statement(data, identity_r_signature(SEED, data), public_key_of(SEED))
    assert not VerifierKey("a.example", 1, public_key_of(SEED)).verify(message, sig)


def test_unreduced_s_is_refused():
    signer = SignerKey("a.example", 1, SEED)
    sig = signer.sign(b"m")
    s = int.from_bytes(sig[32:], "little") + L
    assert signature_problem(sig[:32] + s.to_bytes(32, "little")) == "the signature's S is not reduced"
