"""The stored record as a transparency log, measured where people wait: appending an act (entry + tree nodes, in
one transaction), serving an inclusion or consistency proof, and checking downloaded leaves the way
`councils verify --remote` does.

    python bench/record_log.py [--entries 1000000] [--appends 2000] [--database URL]

A chain of --entries entries is written in bulk first (entries made by the record engine, tree nodes by the
tree engine: what appending them one by one would store), then --appends acts are appended through
record.services.append, as every service does. SQLite in a temporary folder unless --database names another.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    parser.add_argument("--proofs", type=int, default=500)
    parser.add_argument("--database", default=None, help="a DATABASE_URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    os.environ.setdefault("COUNCILS_DATA", tempfile.mkdtemp(prefix="councils-bench-"))
    if args.database:
        os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "councils.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from councils.commands.remote import check_leaves
    from councils.record import log, note, tree
    from councils.record.chain import canonical_json, next_entry
    from councils.record.models import Chain, RecordEntry, TreeNode
    from councils.record.services import append

    chain = f"bench/{int(time.time())}"
    print(f"# {args.entries:,} entries in chain {chain!r}, database {django.db.connection.vendor}")
    began = time.perf_counter()
    memory = tree.MemoryTree()
    head = None
    batch_entries, batch_nodes = [], []
    for seq in range(args.entries):
        head = next_entry(head, chain=chain, at="2030-01-01T00:00:00.000000+00:00", actor=f"member{seq % 997}",
                          kind="ballot.cast", subject=f"ballot:{seq}", data={"state": {"choice": "yes", "n": seq}})
        row = RecordEntry(chain=chain, seq=head.seq, at=head.at, actor=head.actor, kind=head.kind, subject=head.subject,
                          data_json=canonical_json(head.data).decode(), prev_hash=head.prev_hash, hash=head.hash)
        batch_entries.append(row)
        for (level, index), digest in memory.append(log.leaf_bytes(row)):
            batch_nodes.append(TreeNode(chain=chain, key=TreeNode.key_of(level, index), hash=digest))
        if len(batch_entries) >= 20_000:
            RecordEntry.objects.bulk_create(batch_entries)
            TreeNode.objects.bulk_create(batch_nodes)
            batch_entries, batch_nodes = [], []
    RecordEntry.objects.bulk_create(batch_entries)
    TreeNode.objects.bulk_create(batch_nodes)
    Chain.objects.create(name=chain, tree_size=args.entries)
    print(f"bulk load: {time.perf_counter() - began:.1f} s")

    from collections import defaultdict

    from councils.record.chain import verify_chain
    from councils.record.services import Report, _stored_entries

    start, cpu = time.perf_counter(), time.process_time()
    result = verify_chain(chain, _stored_entries(chain, Report(), defaultdict(dict), None))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert result.ok, result.first_break
    print(f"councils verify's chain check (read, parse, rehash, link), {args.entries:,} entries: {elapsed:.1f} s wall, "
          f"{cpu:.1f} s CPU ({cpu / args.entries * 1e6:.0f} us CPU per entry)")

    from councils import clock

    times = []
    for n in range(args.appends):
        start = time.perf_counter()
        with transaction.atomic():
            append(chain, kind="comment.added", subject=f"comment:{n}", state={"body": "x" * 200}, at=clock.now())
        times.append(time.perf_counter() - start)
    size = args.entries + args.appends
    print(f"append an act (entry + tree nodes, own transaction), at {size:,}: "
          f"median {statistics.median(times) * 1e3:.2f} ms, p99 {sorted(times)[int(len(times) * .99)] * 1e3:.2f} ms")

    import random

    rng = random.Random(1)
    checkpoint = log.latest_checkpoint(chain)
    body = note.open_checkpoint(checkpoint.note, note.VerifierKey.parse(log.server_vkey())).checkpoint
    times = []
    for _ in range(args.proofs):
        index = rng.randrange(size)
        start = time.perf_counter()
        proof = log.inclusion_proof(chain, index, size)
        times.append(time.perf_counter() - start)
        leaf = log.leaves(chain, index, index + 1)[0]
        tree.verify_inclusion(tree.leaf_hash(leaf), index, size, proof, body.root_hash)
    print(f"inclusion proof at {size:,}: median {statistics.median(times) * 1e3:.2f} ms, max {max(times) * 1e3:.2f} ms")
    times = []
    for _ in range(args.proofs):
        first = rng.randrange(1, size)
        start = time.perf_counter()
        log.consistency_proof(chain, first, size)
        times.append(time.perf_counter() - start)
    print(f"consistency proof at {size:,}: median {statistics.median(times) * 1e3:.2f} ms, max {max(times) * 1e3:.2f} ms")

    class Local:
        """The remote verifier's reads, answered in-process: what it costs beyond the network."""

        def json(self, path, **params):
            import base64

            return {"leaves": [base64.b64encode(leaf).decode() for leaf in log.leaves(chain, params["start"], params["end"])]}

    start = time.perf_counter()
    checked = check_leaves(Local(), chain, body)
    elapsed = time.perf_counter() - start
    print(f"check every leaf as verify --remote does (no network): {checked:,} entries in {elapsed:.1f} s "
          f"({checked / elapsed:,.0f} a second)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
