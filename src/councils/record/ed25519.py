"""Which Ed25519 public keys are refused, whatever a signature library would accept.

A public key that is a point of small order (one of the 8 points whose order
divides the cofactor) lets a "signature" verify on many messages with no
private key at all: OpenSSL, through ``cryptography``, accepts the all-zero
signature on ``b"x"`` for the all-zero public key. Such a key signs nothing in
particular, so a statement or checkpoint "signed" by it proves nothing, and a
signer holding it could deny any act. We refuse these keys wherever a key is
read, as libsodium does, and refuse non-canonical encodings (y >= p) too, so one
key has one spelling.

The small-order points are computed here from the curve equation
(-x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19)) rather than copied as constants.
"""

from __future__ import annotations

P = 2**255 - 19
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)  # a square root of -1 mod P


def _sqrt(a: int) -> int | None:
    """A square root of a mod P (P = 5 mod 8), or None."""
    a %= P
    r = pow(a, (P + 3) // 8, P)
    if r * r % P == a:
        return r
    r = r * SQRT_M1 % P
    if r * r % P == a:
        return r
    return None


def _small_order_ys() -> frozenset[int]:
    ys = {1, P - 1, 0}  # order 1 (0, 1), order 2 (0, -1), order 4 (+-sqrt(-1), 0)
    # order 8: doubling (x, y) gives y' = (x^2 + y^2) / (2 - y^2 + x^2), which is 0 (order 4)
    # when y^2 = -x^2; on the curve that means d x^4 - 2 x^2 - 1 = 0.
    s = _sqrt(1 + D)
    inv_d = pow(D, P - 2, P)
    for root in (s, P - s):
        x2 = (1 + root) * inv_d % P
        y = _sqrt(-x2)
        if y is not None and _sqrt(x2) is not None:
            ys.update({y, P - y})
    return frozenset(ys)


SMALL_ORDER_YS = _small_order_ys()


def public_key_problem(public_key: bytes) -> str | None:
    """Why a 32-byte Ed25519 public key is refused, or None when it is acceptable."""
    if len(public_key) != 32:
        return f"an Ed25519 public key has 32 bytes, not {len(public_key)}"
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    if y >= P:
        return "the public key is not canonically encoded"
    if y in SMALL_ORDER_YS:
        return "the public key is a point of small order, which signs nothing in particular"
    return None


L = 2**252 + 27742317777372353535851937790883648493  # the order of the base point


def signature_problem(signature: bytes) -> str | None:
    """Why a 64-byte Ed25519 signature is refused before any library checks it, or None.

    A signature whose R is of small order verifies in OpenSSL when the signer
    makes it so (R the identity, S = k * a), but libsodium refuses it: a
    signer could make acts that one verifier accepts and another, say a
    member's browser or a remote verifier, refuses. Refusing them here keeps
    every verifier of the record to one answer. S must be below L (reduced).
    """
    if len(signature) != 64:
        return f"an Ed25519 signature has 64 bytes, not {len(signature)}"
    y = int.from_bytes(signature[:32], "little") & ((1 << 255) - 1)
    if y >= P or y in SMALL_ORDER_YS:
        return "the signature's R is not a usable point"
    if int.from_bytes(signature[32:], "little") >= L:
        return "the signature's S is not reduced"
    return None
