"""The Merkle tree against RFC 9162's recursive definitions, computed naively."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from councils.record.tree import (
    InvalidProof,
    Frontier,
    MemoryTree,
    MissingNode,
    TreeError,
    append_keys,
    append_leaf,
    consistency_proof,
    consistency_proof_keys,
    empty_root,
    inclusion_proof,
    inclusion_proof_keys,
    leaf_hash,
    leaf_hashes,
    root_hash,
    root_keys,
    root_of_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# --- RFC 9162 section 2.1, literally -------------------------------------------------------------


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return H(b"")
    if len(d) == 1:
        return H(b"\x00" + d[0])
    k = k_split(len(d))
    return H(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = k_split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = k_split(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def leaves(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def tree_of(n: int) -> MemoryTree:
    t = MemoryTree()
    for leaf in leaves(n):
        t.append(leaf)
    return t


BIG = tree_of(300)
BIG_LEAVES = leaves(300)
BIG_ROOTS = [mth(BIG_LEAVES[:n]) for n in range(301)]


def test_empty_tree_root_is_hash_of_nothing():
    assert empty_root() == MemoryTree().root() == hashlib.sha256(b"").digest() == root_of_leaf_hashes([])


def test_root_matches_rfc_definition_at_every_size_up_to_300():
    for n in range(301):
        assert BIG.root(n) == BIG_ROOTS[n], n
        assert root_of_leaf_hashes(leaf_hashes(BIG_LEAVES[:n])) == BIG_ROOTS[n], n


@given(st.lists(st.binary(max_size=40), max_size=70))
@settings(max_examples=60, deadline=None)
def test_any_leaves_give_the_rfc_root(data):
    t = MemoryTree()
    for leaf in data:
        t.append(leaf)
    assert t.root() == mth(data) == root_of_leaf_hashes(leaf_hashes(data))


def test_append_stores_two_nodes_per_leaf_and_reads_only_left_siblings():
    t = MemoryTree()
    for i, leaf in enumerate(leaves(64)):
        read = []
        new = append_leaf(
            i, leaf_hash(leaf), lambda lv, ix: read.append((lv, ix)) or t.nodes[(lv, ix)]
        )
        assert read == append_keys(i)
        assert len(new) == 1 + len(append_keys(i)) <= 7
        t.nodes.update(new)
        t.size += 1
    assert len(t.nodes) == 2 * 64 - 1
    # node (l, i) covers leaves [i*2^l, (i+1)*2^l)
    assert t.nodes[(3, 2)] == mth(leaves(64)[16:24])


def test_root_reads_one_node_per_set_bit_of_the_size():
    assert root_keys(13) == [(3, 0), (2, 2), (0, 12)]
    assert root_keys(0) == []


def test_inclusion_proofs_match_rfc_and_verify_for_every_pair_up_to_64():
    for n in range(1, 65):
        for m in range(n):
            proof = BIG.inclusion_proof(m, n)
            assert proof == path(m, BIG_LEAVES[:n]), (m, n)
            verify_inclusion(leaf_hash(BIG_LEAVES[m]), m, n, proof, BIG_ROOTS[n])


def test_consistency_proofs_match_rfc_and_verify_for_every_pair_up_to_64():
    for n in range(1, 65):
        for m in range(1, n + 1):
            proof = BIG.consistency_proof(m, n)
            expected = [] if m == n else subproof(m, BIG_LEAVES[:n], True)
            assert proof == expected, (m, n)
            verify_consistency(m, n, proof, BIG_ROOTS[m], BIG_ROOTS[n])


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_proofs_at_sizes_up_to_300_match_rfc_and_verify(data):
    n = data.draw(st.integers(1, 300))
    m = data.draw(st.integers(0, n - 1))
    assert BIG.inclusion_proof(m, n) == path(m, BIG_LEAVES[:n])
    verify_inclusion(leaf_hash(BIG_LEAVES[m]), m, n, BIG.inclusion_proof(m, n), BIG_ROOTS[n])
    first = data.draw(st.integers(1, n))
    proof = BIG.consistency_proof(first, n)
    assert proof == ([] if first == n else subproof(first, BIG_LEAVES[:n], True))
    verify_consistency(first, n, proof, BIG_ROOTS[first], BIG_ROOTS[n])


def flipped(proof: list[bytes], i: int) -> list[bytes]:
    return [bytes([p[0] ^ 1]) + p[1:] if j == i else p for j, p in enumerate(proof)]


def test_every_changed_inclusion_proof_fails():
    for n in range(1, 40):
        for m in range(n):
            proof = BIG.inclusion_proof(m, n)
            lh, root = leaf_hash(BIG_LEAVES[m]), BIG_ROOTS[n]
            bad = [
                (lh, m, n, proof, flipped([root], 0)[0]),  # other root
                (leaf_hash(b"forged"), m, n, proof, root),  # other leaf
                (lh, m, n, proof + [root], root),  # one hash too many
            ]
            bad += [(lh, m, n, flipped(proof, i), root) for i in range(len(proof))]
            if proof:
                bad.append((lh, m, n, proof[:-1], root))
            if m + 1 < n:
                bad.append((lh, m + 1, n, proof, root))
            for args in bad:
                with pytest.raises(InvalidProof):
                    verify_inclusion(*args)


def test_every_changed_consistency_proof_fails():
    for n in range(2, 40):
        for m in range(1, n):
            proof = BIG.consistency_proof(m, n)
            r1, r2 = BIG_ROOTS[m], BIG_ROOTS[n]
            bad = [
                (m, n, proof, flipped([r1], 0)[0], r2),
                (m, n, proof, r1, flipped([r2], 0)[0]),
                (m, n, proof[:-1], r1, r2),
                (m, n, proof + [r1], r1, r2),
                (m, n, [], r1, r2),
                (m, n, proof, r1, BIG_ROOTS[n + 1]),
                (m, n, proof, r2, r1),
            ]
            bad += [(m, n, flipped(proof, i), r1, r2) for i in range(len(proof))]
            if m + 1 < n:
                bad.append((m + 1, n, proof, BIG_ROOTS[m + 1], r2))
            for args in bad:
                with pytest.raises(InvalidProof):
                    verify_consistency(*args)


def test_a_fork_of_one_size_is_caught():
    other = tree_of(20)
    other.append(b"a different entry")
    with pytest.raises(InvalidProof, match="fork"):
        verify_consistency(21, 21, [], BIG.root(21), other.root())
    # and the server cannot prove the fork consistent with what it showed before
    with pytest.raises(InvalidProof):
        verify_consistency(21, 30, BIG.consistency_proof(21, 30), other.root(), BIG.root(30))


def test_trivial_consistency_cases():
    verify_consistency(0, 5, [], empty_root(), BIG_ROOTS[5])
    with pytest.raises(InvalidProof):
        verify_consistency(0, 5, [BIG_ROOTS[1]], empty_root(), BIG_ROOTS[5])
    with pytest.raises(InvalidProof):
        verify_consistency(5, 5, [BIG_ROOTS[1]], BIG_ROOTS[5], BIG_ROOTS[5])
    with pytest.raises(InvalidProof, match="not in order"):
        verify_consistency(6, 5, [], BIG_ROOTS[6], BIG_ROOTS[5])


def test_proof_keys_are_exactly_what_the_proof_reads():
    for n in (1, 2, 7, 8, 13, 64, 255, 300):
        for m in range(0, n, 7):
            read = []
            inclusion_proof(m, n, lambda lv, ix: read.append((lv, ix)) or BIG.nodes[(lv, ix)])
            assert set(read) == set(inclusion_proof_keys(m, n))
            read = []
            consistency_proof(m, n, lambda lv, ix: read.append((lv, ix)) or BIG.nodes[(lv, ix)])
            assert set(read) == set(consistency_proof_keys(m, n))
            # one batch fetch of the keys is enough
            batch = {k: BIG.nodes[k] for k in inclusion_proof_keys(m, n)}
            assert inclusion_proof(m, n, batch) == BIG.inclusion_proof(m, n)
            batch = {k: BIG.nodes[k] for k in consistency_proof_keys(m, n)}
            assert consistency_proof(m, n, batch) == BIG.consistency_proof(m, n)
        assert root_hash(n, {k: BIG.nodes[k] for k in root_keys(n)}) == BIG_ROOTS[n]


def test_refusals_name_what_is_wrong():
    with pytest.raises(TreeError, match="index 5 is not in a tree of size 5"):
        BIG.inclusion_proof(5, 5)
    with pytest.raises(TreeError, match="larger than the tree"):
        BIG.inclusion_proof(0, 301)
    with pytest.raises(TreeError, match="first size 9 is larger than second size 8"):
        BIG.consistency_proof(9, 8)
    with pytest.raises(TreeError, match="non-negative integer"):
        BIG.root(-1)
    with pytest.raises(MissingNode, match=r"level 0, index 12"):
        root_hash(13, {(3, 0): BIG.nodes[(3, 0)]})
    with pytest.raises(TreeError, match="leaf hash has 3 bytes"):
        MemoryTree().append_hash(b"abc")
    with pytest.raises(InvalidProof, match="hash #0 is not 32 bytes"):
        verify_inclusion(leaf_hash(b""), 0, 2, [b"short"], BIG_ROOTS[2])


def test_frontier_knows_the_root_at_every_size_from_log_n_hashes():
    f = Frontier()
    assert f.root() == empty_root()
    for n, leaf in enumerate(BIG_LEAVES, start=1):
        f.append(leaf)
        assert f.root() == BIG_ROOTS[n], n
        assert len(f.hashes) == bin(n).count("1")
    assert f.hashes == [BIG.nodes[k] for k in root_keys(300)]


def test_frontier_started_from_stored_nodes_continues_the_same_tree():
    f = Frontier.from_nodes(123, BIG.nodes)
    for leaf in BIG_LEAVES[123:200]:
        f.append(leaf)
    assert (f.size, f.root()) == (200, BIG_ROOTS[200])
    with pytest.raises(TreeError, match="leaf hash has 5 bytes"):
        f.append_hash(b"short")
