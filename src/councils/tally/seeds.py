"""Seeds for lots, derived from the ballots themselves.

A lot settles a tie that the rules cannot. Whoever knows the seed before the vote
closes knows how every tie will fall, so the seed is made from a digest of the ballots
cast: nobody can know it until the last ballot is in, and anyone holding the ballots
can recompute it and re-run the count. The digest is SHA-256 over a canonical form of
the ballots, so it does not depend on the order the ballots were stored or read in,
nor on how a file wrote them (two lines with the same ranking count as one with their
counts added).

Canonical form (version 1), the bytes hashed in this order:

- ``b"councils ballots v1\\n"``;
- the options, as a JSON list of strings (UTF-8, no spaces), then ``b"\\n"``;
- the form of the rows: ``b"orders\\n"`` for strict rankings (each row: the options'
  indices best first, -1 after the last, as wide as the longest ranking), ``b"ranks\\n"``
  for rankings with ties (each row: every option's position, 0 = first, -1 unranked),
  ``b"table\\n"`` for approvals (1/0) and scores (times 1000, rounded);
- for each distinct row, in increasing lexicographic order: the row as little-endian
  int32, then its count (the ballots with that row, added up) as a little-endian float64.
"""

from __future__ import annotations

import hashlib
import json
from typing import Sequence

import numpy as np

from councils.tally.profile import UNRANKED, Profile, _collapse

VERSION = b"councils ballots v1\n"
# 52 bits: a seed shown on a page or in JSON stays exact even where numbers are doubles.
SEED_BITS = 52


def ballots_digest(profile: Profile) -> str:
    """SHA-256 (hex) of the profile's ballots in canonical form: the same ballots give the same digest."""
    if not profile.has_ties:
        orders = profile.orders()
        used = orders >= 0
        width = int(used.sum(axis=1).max()) if len(orders) else 0
        return _digest(profile.options, orders[:, :width].astype(np.int64), profile.counts, b"orders\n")
    ranks = profile.ranks.astype(np.int64)
    ranks[ranks == UNRANKED] = -1
    return _digest(profile.options, ranks, profile.counts, b"ranks\n")


def table_digest(options: Sequence[str], table, counts=None, *, scale: int = 1) -> str:
    """The digest of approval (bool) or score ballots, one row per ballot (NaN scores as 0)."""
    table = np.nan_to_num(np.asarray(table, dtype=np.float64), nan=0.0)
    rows = np.rint(table * scale).astype(np.int64)
    counts = np.ones(len(rows)) if counts is None else np.asarray(counts, dtype=np.float64)
    return _digest(tuple(options), rows, counts, b"table\n")


def seed_from_digest(digest: str) -> int:
    """The seed lots are drawn from: the first 52 bits of a digest (hex)."""
    return int(digest[: SEED_BITS // 4], 16)


def ballots_seed(profile: Profile) -> int:
    """``seed_from_digest(ballots_digest(profile))``: the seed of a count when the caller gives none."""
    return seed_from_digest(ballots_digest(profile))


def _digest(options, rows: np.ndarray, counts: np.ndarray, form: bytes) -> str:
    h = hashlib.sha256(VERSION)
    h.update(json.dumps(list(options), ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
    h.update(form)
    if len(rows):
        lo = int(rows.min())
        # Equal rows merged and sorted lexicographically (a fast sort on packed keys where rows fit).
        merged, summed = _collapse(rows - lo, counts, int(rows.max()) - lo + 1)
        keep = summed > 0
        record = np.dtype([("row", "<i4", (rows.shape[1],)), ("count", "<f8")])  # packed: no padding
        out = np.empty(int(keep.sum()), dtype=record)
        out["row"] = merged[keep] + lo
        out["count"] = summed[keep]
        h.update(out.tobytes())
    return h.hexdigest()
