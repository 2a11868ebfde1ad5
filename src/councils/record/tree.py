"""Merkle tree of a log, hashed as RFC 9162 section 2.1, kept as stored node hashes.

Hashes (SHA-256):

* leaf hash  ``MTH({d}) = SHA-256(0x00 || d)``
* node hash  ``SHA-256(0x01 || left || right)``
* empty tree ``SHA-256()``

How it is stored. A log of millions of leaves cannot be rehashed per request, so
we keep the hash of every *complete* subtree: node ``(level, index)`` covers the
2**level leaves ``[index * 2**level, (index + 1) * 2**level)``, and level 0 holds
the leaf hashes. They never change once written (the log only grows), so a
database can keep them in one append-only table keyed by (level, index), about
two rows per leaf. Every RFC 9162 tree of any size ``n`` up to the current size
splits into complete subtrees, so roots, inclusion proofs and consistency proofs
at any past size are computed from these stored nodes alone.

How it is read. This module never touches storage: the caller passes the nodes
as a ``Mapping[(level, index)] -> bytes`` (what one batch query returns) or as a
callable ``get(level, index) -> bytes``. Each computation has a ``*_keys``
companion that lists exactly the (level, index) keys it reads, so a database
fetches them in one query::

    keys = inclusion_proof_keys(index, size)
    nodes = {(r.level, r.index): r.hash for r in rows_where_key_in(keys)}
    proof = inclusion_proof(index, size, nodes)

A leaf appended at position ``size`` costs one leaf hash plus one node hash per
trailing 1 bit of ``size`` (at most log2 n), reading only those left siblings
(``append_keys``); ``append_leaf`` returns the new nodes to store.

Proof verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, Union

HASH_SIZE = 32
NodeKey = tuple[int, int]  # (level, index)

_LEAF = b"\x00"
_NODE = b"\x01"
_sha256 = hashlib.sha256


class NodeReader(Protocol):
    """What a store offers: the hash of the complete subtree ``(level, index)``."""

    def __call__(self, level: int, index: int) -> bytes: ...


Nodes = Union[Mapping[NodeKey, bytes], NodeReader]


class TreeError(ValueError):
    """A request the tree cannot answer (bad index or size, a node the store lacks)."""


class MissingNode(TreeError):
    def __init__(self, level: int, index: int):
        super().__init__(
            f"the store has no node (level {level}, index {index}) "
            f"(leaves {index << level} to {((index + 1) << level) - 1}): is the tree that large?"
        )
        self.level = level
        self.index = index


class InvalidProof(ValueError):
    """A proof that does not prove what it claims; the message says which check failed."""


# --- hashing -------------------------------------------------------------------------------------


def empty_root() -> bytes:
    """The root hash of the empty tree: SHA-256 of nothing (RFC 9162 section 2.1.1)."""
    return _sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return _sha256(_LEAF + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE + left + right).digest()


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    return [_sha256(_LEAF + leaf).digest() for leaf in leaves]


def root_of_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The root hash of a whole tree from all its leaf hashes, for a verifier that has every leaf.

    Pairs level by level and carries a lone last node up unchanged, which
    gives the same tree as RFC 9162's split at the largest power of two
    (the tests check this against the recursive definition). One SHA-256
    call per node in a list comprehension: about 1 s per 10**6 leaves here.
    """
    if not hashes:
        return empty_root()
    level = list(hashes)
    for h in level:
        if len(h) != HASH_SIZE:
            raise TreeError(f"a leaf hash has {len(h)} bytes, expected {HASH_SIZE}")
    sha, prefix = _sha256, _NODE
    while len(level) > 1:
        paired = [sha(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# --- which complete subtrees make up a range -----------------------------------------------------


def _check_size(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TreeError(f"{name} must be a non-negative integer, got {value!r}")


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (RFC 9162's split point), for n > 1."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_keys(lo: int, hi: int) -> list[NodeKey]:
    """The complete subtrees that tile leaves [lo, hi), left to right, largest first.

    Only called for ranges that are nodes of an RFC 9162 tree, where this
    tiling is the tree's own shape: the hash of the range is the right fold
    ``node(k0, node(k1, ... node(k_{j-1}, k_j)))``.
    """
    keys = []
    while lo < hi:
        # the largest aligned block that starts at lo and fits
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while lo + (1 << level) > hi:
            level -= 1
        keys.append((level, lo >> level))
        lo += 1 << level
    return keys


def _reader(nodes: Nodes) -> Callable[[int, int], bytes]:
    if isinstance(nodes, Mapping):

        def get(level: int, index: int) -> bytes:
            try:
                return nodes[(level, index)]
            except KeyError:
                raise MissingNode(level, index) from None

        return get
    return nodes


def _range_hash(lo: int, hi: int, get: Callable[[int, int], bytes]) -> bytes:
    keys = _range_keys(lo, hi)
    h = get(*keys[-1])
    for key in reversed(keys[:-1]):
        h = node_hash(get(*key), h)
    return h


# --- append --------------------------------------------------------------------------------------


def append_keys(size: int) -> list[NodeKey]:
    """The nodes ``append_leaf`` reads to append the leaf number ``size``: the left
    siblings it completes, one per trailing 1 bit of ``size``."""
    _check_size("size", size)
    keys = []
    level, index = 0, size
    while index & 1:
        keys.append((level, index - 1))
        level, index = level + 1, index >> 1
    return keys


def append_leaf(size: int, leaf_hash_: bytes, nodes: Nodes) -> list[tuple[NodeKey, bytes]]:
    """Append a leaf (given by its leaf hash) to a tree of ``size`` leaves.

    Returns the new complete-subtree nodes to store, the leaf first and the
    highest last: ``[((0, size), leaf_hash), ((1, size // 2), ...), ...]``.
    O(log n) hashes and reads, and only the reads of ``append_keys(size)``.
    """
    _check_size("size", size)
    if len(leaf_hash_) != HASH_SIZE:
        raise TreeError(f"leaf hash has {len(leaf_hash_)} bytes, expected {HASH_SIZE}")
    get = _reader(nodes)
    new = [((0, size), leaf_hash_)]
    h, level, index = leaf_hash_, 0, size
    while index & 1:
        h = node_hash(get(level, index - 1), h)
        level, index = level + 1, index >> 1
        new.append(((level, index), h))
    return new


# --- root ----------------------------------------------------------------------------------------


def root_keys(size: int) -> list[NodeKey]:
    """The complete subtrees whose hashes make the root at ``size`` (one per 1 bit of size)."""
    _check_size("size", size)
    return _range_keys(0, size)


def root_hash(size: int, nodes: Nodes) -> bytes:
    """The RFC 9162 root hash of the first ``size`` leaves, from stored nodes."""
    _check_size("size", size)
    if size == 0:
        return empty_root()
    return _range_hash(0, size, _reader(nodes))


# --- inclusion proofs (RFC 9162 section 2.1.3) --------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1 as leaf ranges, leaf's sibling first."""
    ranges = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def _check_index(index: int, size: int) -> None:
    _check_size("index", index)
    _check_size("size", size)
    if index >= size:
        raise TreeError(f"index {index} is not in a tree of size {size}")


def _keys_of(ranges: Iterable[tuple[int, int]]) -> list[NodeKey]:
    seen: dict[NodeKey, None] = {}
    for lo, hi in ranges:
        for key in _range_keys(lo, hi):
            seen[key] = None
    return list(seen)


def inclusion_proof_keys(index: int, size: int) -> list[NodeKey]:
    """The stored nodes ``inclusion_proof(index, size, ...)`` reads."""
    _check_index(index, size)
    return _keys_of(_inclusion_ranges(index, size))


def inclusion_proof(index: int, size: int, nodes: Nodes) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
    _check_index(index, size)
    get = _reader(nodes)
    return [_range_hash(lo, hi, get) for lo, hi in _inclusion_ranges(index, size)]


def _check_proof_hashes(name: str, proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        if not isinstance(p, (bytes, bytearray)) or len(p) != HASH_SIZE:
            raise InvalidProof(f"{name} hash #{i} is not {HASH_SIZE} bytes")


def verify_inclusion(leaf_hash_: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2; raises InvalidProof naming the failed check."""
    _check_proof_hashes("inclusion proof", proof)
    if index < 0 or size < 0 or index >= size:  # step 1
        raise InvalidProof(f"index {index} is not in a tree of size {size}")
    fn, sn = index, size - 1  # step 2
    r = leaf_hash_  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            raise InvalidProof("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5
        raise InvalidProof("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise InvalidProof(f"leaf {index} with this proof does not give the root of the tree of size {size}")


# --- consistency proofs (RFC 9162 section 2.1.4) ------------------------------------------------


def _check_pair(first: int, second: int) -> None:
    _check_size("first", first)
    _check_size("second", second)
    if first > second:
        raise TreeError(f"first size {first} is larger than second size {second}")


def _consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1 as leaf ranges.

    Empty when first is 0 or equal to second: RFC 9162 defines proofs for
    0 < m < n only; these two trivial cases need no hashes (as in Go's tlog).
    """
    if first == 0 or first == second:
        return []
    ranges = []
    m, lo, hi, whole = first, 0, second, True
    while True:
        if m == hi - lo:
            if not whole:
                ranges.append((lo, hi))
            break
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            m -= k
            lo += k
            whole = False
    ranges.reverse()
    return ranges


def consistency_proof_keys(first: int, second: int) -> list[NodeKey]:
    """The stored nodes ``consistency_proof(first, second, ...)`` reads."""
    _check_pair(first, second)
    return _keys_of(_consistency_ranges(first, second))


def consistency_proof(first: int, second: int, nodes: Nodes) -> list[bytes]:
    """Proof that the tree of ``second`` leaves extends the tree of its first ``first`` leaves."""
    _check_pair(first, second)
    get = _reader(nodes)
    return [_range_hash(lo, hi, get) for lo, hi in _consistency_ranges(first, second)]


def verify_consistency(first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes) -> None:
    """RFC 9162 section 2.1.4.2; raises InvalidProof naming the failed check.

    The RFC's algorithm covers 0 < first < second. For first == second the
    proof must be empty and the roots equal; for first == 0 the proof must be
    empty (every tree extends the empty one).
    """
    _check_proof_hashes("consistency proof", proof)
    if first < 0 or second < 0 or first > second:
        raise InvalidProof(f"first size {first} and second size {second} are not in order")
    if first == second:
        if proof:
            raise InvalidProof("a consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise InvalidProof(f"two different roots for the same size {first} (a fork)")
        return
    if first == 0:
        if proof:
            raise InvalidProof("a consistency proof from the empty tree must be empty")
        return
    if not proof:  # step 1
        raise InvalidProof("consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:  # step 2: first is a power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            raise InvalidProof("consistency proof is longer than the trees are deep")
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    # step 7
    if sn != 0:
        raise InvalidProof("consistency proof is shorter than the trees are deep")
    if fr != first_root:
        raise InvalidProof(f"consistency proof does not give the root of the tree of size {first}")
    if sr != second_root:
        raise InvalidProof(f"consistency proof does not give the root of the tree of size {second}")


# --- a streaming verifier's state ---------------------------------------------------------------


@dataclass
class Frontier:
    """The root of a growing tree from the hashes of its right edge only: O(log n) memory.

    For a verifier that reads the leaves page by page: after each leaf it knows
    the root at that size, so it checks every checkpoint it holds (any size
    along the way) against the leaves themselves, with no proof from the server.
    ``hashes`` are the complete subtrees of ``root_keys(size)``, largest first,
    so a store can also start one with ``Frontier.from_nodes``.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @classmethod
    def from_nodes(cls, size: int, nodes: Nodes) -> "Frontier":
        get = _reader(nodes)
        return cls(size=size, hashes=[get(*key) for key in root_keys(size)])

    def append_hash(self, leaf_hash_: bytes) -> None:
        if len(leaf_hash_) != HASH_SIZE:
            raise TreeError(f"leaf hash has {len(leaf_hash_)} bytes, expected {HASH_SIZE}")
        h, index, hashes = leaf_hash_, self.size, self.hashes
        while index & 1:  # the leaf completes one subtree per trailing 1 bit, as in append_leaf
            h = node_hash(hashes.pop(), h)
            index >>= 1
        hashes.append(h)
        self.size += 1

    def append(self, leaf: bytes) -> None:
        self.append_hash(leaf_hash(leaf))

    def root(self) -> bytes:
        if not self.hashes:
            return empty_root()
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = node_hash(left, h)
        return h


# --- an in-memory store, for tests, benchmarks and verifiers ------------------------------------


@dataclass
class MemoryTree:
    """A log kept in a dict of complete-subtree nodes, as a database would keep them."""

    nodes: dict[NodeKey, bytes] = field(default_factory=dict)
    size: int = 0

    def append(self, leaf: bytes) -> list[tuple[NodeKey, bytes]]:
        return self.append_hash(leaf_hash(leaf))

    def append_hash(self, leaf_hash_: bytes) -> list[tuple[NodeKey, bytes]]:
        new = append_leaf(self.size, leaf_hash_, self.nodes)
        self.nodes.update(new)
        self.size += 1
        return new

    def _within(self, name: str, n: int) -> None:
        _check_size(name, n)
        if n > self.size:
            raise TreeError(f"{name} {n} is larger than the tree ({self.size} leaves)")

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._within("size", size)
        return root_hash(size, self.nodes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        self._within("size", size)
        return inclusion_proof(index, size, self.nodes)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        second = self.size if second is None else second
        self._within("second", second)
        return consistency_proof(first, second, self.nodes)
