"""The record engine: an append-only chain of entries, each carrying the hash of the one before.

Pure: plain data in and out, no Django, no clock. The application stores the
entries; this module decides what an entry's hash is and whether a chain holds.

Submodules for a record nobody has to trust (import them by name):
``councils.record.tree`` (RFC 9162 Merkle tree over stored nodes, proofs),
``councils.record.note`` (C2SP signed notes, checkpoints, cosignatures),
``councils.record.statement`` (members' signed acts in RFC 8785 JSON).
"""

from councils.record.chain import (
    GENESIS,
    ChainBreak,
    Entry,
    VerifyResult,
    canonical_json,
    entry_hash,
    next_entry,
    verify_chain,
)

__all__ = [
    "GENESIS",
    "ChainBreak",
    "Entry",
    "VerifyResult",
    "canonical_json",
    "entry_hash",
    "next_entry",
    "verify_chain",
]
