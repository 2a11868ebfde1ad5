"""Record engine benchmark: the Merkle tree and signatures at a federation's scale.

    PYTHONPATH=src .venv/bin/python bench/record.py [--leaves 1000000] [--verifies 1000000] [--processes 2]

Prints, for a log of --leaves leaves kept in an in-memory dict of complete-subtree
nodes (as a database keeps them, one row per node):

* appending every leaf (mean per append, and the worst case: the append that
  completes the most subtrees, at size 2**k - 1);
* the root from the stored nodes, from all leaf hashes at once (what a
  verifier that downloads every leaf computes) and streamed leaf by leaf
  through a ``Frontier``, and hashing the leaves themselves;
* inclusion and consistency proofs at the full size, for random indices and
  sizes: listing the keys, generating from a dict of only those keys (what one
  batch query returns), and verifying; mean and worst of --proofs each;
* Ed25519 through ``cryptography``: one sign, one verify, one statement parse,
  and --verifies signature checks in one process and over --processes
  processes (``statement.verify_many``). The signed statements are 10,000
  distinct real ones, cycled.

Per-call figures are CPU time of this process (other processes on a shared
machine inflate wall time); totals are wall time, with the CPU time of one-process
runs beside them; the load average is printed at the start and the end.

Only the engine: no database, no HTTP. Figures, not tests: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from councils.record import statement as stmt
from councils.record import tree


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def cpu_timed(fn, *args):
    t = time.process_time()
    out = fn(*args)
    return time.process_time() - t, out


def per_call(fn, repeat: int) -> float:
    """Seconds of this process's CPU per call: on a shared machine, wall time also counts the
    time other processes held the CPU."""
    t = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - t) / repeat


def bench_tree(n: int, proofs: int) -> None:
    print(f"Merkle tree, {n:,} leaves (leaves are 300-byte entries)")
    leaves = [i.to_bytes(8, "big") * 37 + b"\n\n\n\n" for i in range(n)]
    t, hashes = cpu_timed(tree.leaf_hashes, leaves)
    print(f"  hash the leaves:                 {t:8.2f} s CPU ({t / n * 1e6:.2f} us per leaf)")

    memory = tree.MemoryTree()
    append = memory.append_hash
    t0, c0 = time.perf_counter(), time.process_time()
    for h in hashes:
        append(h)
    t, c = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"  append all (store nodes in dict): {t:7.2f} s wall, {c:.2f} s CPU "
        f"({c / n * 1e6:.2f} us CPU per append, {len(memory.nodes):,} nodes)"
    )

    worst_size = (1 << (n.bit_length() - 1)) - 1  # completes log2(n) subtrees
    extra = hashes[0]
    worst = per_call(lambda: tree.append_leaf(worst_size, extra, memory.nodes), 2000)  # not stored: pure
    print(f"  worst append (size {worst_size:,}, {len(tree.append_keys(worst_size))} node hashes): {worst * 1e6:.1f} us")

    t, root = cpu_timed(memory.root)
    print(f"  root from stored nodes:          {t * 1e3:8.3f} ms CPU ({len(tree.root_keys(n))} nodes read)")
    t, root2 = cpu_timed(tree.root_of_leaf_hashes, hashes)
    assert root == root2
    print(f"  root from all leaf hashes:       {t:8.2f} s CPU")
    frontier = tree.Frontier()
    c0 = time.process_time()
    for h in hashes:
        frontier.append_hash(h)
    c = time.process_time() - c0
    assert frontier.root() == root
    print(f"  root streamed through a Frontier: {c:7.2f} s CPU ({len(frontier.hashes)} hashes kept)")

    rng = random.Random(1)
    nodes = memory.nodes
    for name, keys_of, prove, verify in [
        (
            "inclusion",
            lambda a: tree.inclusion_proof_keys(a, n),
            lambda a, got: tree.inclusion_proof(a, n, got),
            lambda a, proof: tree.verify_inclusion(hashes[a], a, n, proof, root),
        ),
        (
            "consistency",
            lambda a: tree.consistency_proof_keys(a, n),
            lambda a, got: tree.consistency_proof(a, n, got),
            lambda a, proof: tree.verify_consistency(a, n, proof, tree.root_hash(a, nodes), root),
        ),
    ]:
        list_t, gen_t, ver_t, lengths = [], [], [], []
        for _ in range(proofs):
            a = rng.randrange(1, n)
            t0 = time.process_time()
            keys = keys_of(a)
            t1 = time.process_time()
            fetched = {k: nodes[k] for k in keys}  # what one batch query returns
            t2 = time.process_time()
            proof = prove(a, fetched)
            t3 = time.process_time()
            verify(a, proof)
            t4 = time.process_time()
            list_t.append(t1 - t0)
            gen_t.append(t3 - t2)
            ver_t.append(t4 - t3)
            lengths.append(len(keys))
        both = [x + y for x, y in zip(list_t, gen_t)]
        print(
            f"  {name} proof at size {n:,} (CPU): keys + generation mean {statistics.mean(both) * 1e6:.0f} us, "
            f"worst {max(both) * 1e6:.0f} us ({max(lengths)} nodes at most); "
            f"verify mean {statistics.mean(ver_t) * 1e6:.0f} us"
        )
    # the same proofs straight from the dict, node by node, as a callable store would serve them
    get = lambda level, index: nodes[(level, index)]  # noqa: E731
    each = per_call(lambda: tree.inclusion_proof(rng.randrange(n), n, get), proofs)
    print(f"  inclusion proof through get(level, index): {each * 1e6:.0f} us")


def bench_signatures(count: int, processes: int) -> None:
    print(f"Ed25519 (cryptography {__import__('cryptography').__version__}), statements of one act each")
    distinct = min(count, 10_000)
    seeds = [bytes([i % 256, i // 256]) * 16 for i in range(100)]
    pubs = [stmt.public_key_of(s) for s in seeds]
    items = []
    t0 = time.perf_counter()
    for i in range(distinct):
        seed, pub = seeds[i % 100], pubs[i % 100]
        statement = stmt.Statement(
            act="ballot.cast",
            council="river-valley",
            object=f"proposal:{i}",
            at="2030-05-01T12:00:00.000000Z",
            key=stmt.key_id(pub),
            content={"ranking": ["b", "a", "c"], "receipt": f"{i:032x}"},
        )
        signed = stmt.sign_statement(statement, seed)
        items.append((signed.statement, signed.signature, pub))
    t = time.perf_counter() - t0
    print(f"  build + sign one statement:      {t / distinct * 1e6:8.1f} us  ({len(items[0][0])} bytes)")
    message, signature, pub = items[0]
    key = stmt.Ed25519PublicKey.from_public_bytes(pub)
    print(f"  one verify (key loaded):         {per_call(lambda: key.verify(signature, message), 2000) * 1e6:8.1f} us")
    print(
        f"  one verify (key from bytes):     "
        f"{per_call(lambda: stmt.Ed25519PublicKey.from_public_bytes(pub).verify(signature, message), 2000) * 1e6:8.1f} us"
    )
    print(f"  one parse_statement:             {per_call(lambda: stmt.parse_statement(message), 2000) * 1e6:8.1f} us")
    batch = [items[i % distinct] for i in range(count)]
    cpu = time.process_time()
    t, bad = timed(lambda: stmt.verify_many(batch, processes=1))
    cpu = time.process_time() - cpu
    assert not bad
    print(f"  {count:,} verifies, 1 process:   {t:8.1f} s wall, {cpu:.1f} s CPU ({cpu / count * 1e6:.1f} us each)")
    t, bad = timed(lambda: stmt.verify_statements(batch[: count // 10], processes=1))
    assert not bad
    print(f"  {count // 10:,} full statement checks (parse + key + signature), 1 process: {t:.1f} s wall")
    if processes > 1:
        t, bad = timed(lambda: stmt.verify_many(batch, processes=processes, parallel_from=1))
        assert not bad
        print(f"  {count:,} verifies, {processes} processes: {t:8.1f} s  ({t / count * 1e6:.1f} us each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--verifies", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    bench_tree(args.leaves, args.proofs)
    bench_signatures(args.verifies, args.processes)
    print("load average at end:   %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
