"""Hash chain over canonical JSON.

The hash of an entry covers its position (chain and sequence number), its time,
its author, what it is about and its data, and the hash of the entry before it,
so changing, removing, inserting or reordering any entry breaks every hash
after it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

GENESIS = "0" * 64


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8, no NaN.

    Floats are refused where not finite because JSON has no spelling for them
    that every verifier would read back the same.
    """
    _check_finite(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"record data must not contain {value!r}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"record data keys must be strings, got {key!r}")
            _check_finite(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item)


@dataclass(frozen=True)
class Entry:
    chain: str
    seq: int
    at: str  # ISO 8601, as the application stamped it
    actor: str | None
    kind: str
    subject: str
    data: dict = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""

    def hashed_fields(self) -> dict:
        # Not dataclasses.asdict: it deep-copies the data first, which was most of the cost of hashing an entry.
        return {"chain": self.chain, "seq": self.seq, "at": self.at, "actor": self.actor, "kind": self.kind,
                "subject": self.subject, "data": self.data, "prev_hash": self.prev_hash}

    def to_dict(self) -> dict:
        return asdict(self)


def entry_hash(entry: Entry) -> str:
    return hashlib.sha256(canonical_json(entry.hashed_fields())).hexdigest()


def next_entry(
    head: Entry | None,
    *,
    chain: str,
    at: str,
    actor: str | None,
    kind: str,
    subject: str,
    data: dict,
) -> Entry:
    """The entry that follows ``head`` (or opens the chain when ``head`` is None)."""
    if head is not None and head.chain != chain:
        raise ValueError(f"head belongs to chain {head.chain!r}, not {chain!r}")
    draft = Entry(
        chain=chain,
        seq=0 if head is None else head.seq + 1,
        at=at,
        actor=actor,
        kind=kind,
        subject=subject,
        data=data,
        prev_hash=GENESIS if head is None else head.hash,
    )
    return Entry(**{**draft.__dict__, "hash": entry_hash(draft)})


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    chain: str
    checked: int
    head: str
    breaks: tuple[ChainBreak, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> ChainBreak | None:
        return self.breaks[0] if self.breaks else None


def verify_chain(chain: str, entries: Iterable[Entry], *, after: Entry | None = None) -> VerifyResult:
    """Recompute every hash and link, in sequence order as given.

    Reports every break, first one first: the first is where to look; later ones
    tell whether the damage is one edit or many. ``after``: the entries continue
    the chain after this (already checked) entry, e.g. the next page of a download.
    """
    breaks: list[ChainBreak] = []
    expected_seq = 0 if after is None else after.seq + 1
    prev = GENESIS if after is None else after.hash
    count = 0
    for entry in entries:
        count += 1
        if entry.chain != chain:
            breaks.append(ChainBreak(entry.seq, f"belongs to chain {entry.chain!r}"))
        if entry.seq != expected_seq:
            breaks.append(ChainBreak(entry.seq, f"sequence number {entry.seq}, expected {expected_seq}"))
        if entry.prev_hash != prev:
            breaks.append(ChainBreak(entry.seq, "does not link to the entry before it"))
        try:
            actual = entry_hash(entry)
        except (TypeError, ValueError) as exc:
            breaks.append(ChainBreak(entry.seq, f"cannot be hashed: {exc}"))
            actual = None
        if actual is not None and actual != entry.hash:
            breaks.append(ChainBreak(entry.seq, "content does not match its hash (altered)"))
        prev = entry.hash
        expected_seq = entry.seq + 1
    return VerifyResult(chain=chain, checked=count, head=prev, breaks=tuple(breaks))
