"""Ballot profiles: distinct rankings with their counts.

A million ballots over ten options hold far fewer distinct rankings, and every
ranked method only needs each distinct ranking once with its multiplicity. So a
profile is a small int array ``ranks`` of shape (n_distinct, n_options): entry
[b, o] is the position of option o on ballot b (0 = first choice; equal values
are ties) or ``UNRANKED``; and ``counts``, how many ballots carry that ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

UNRANKED = np.iinfo(np.int16).max


class ProfileError(ValueError):
    """Ballots that cannot be counted: unknown option, repeated option, negative count..."""


@dataclass(frozen=True, eq=False)
class Profile:
    options: tuple[str, ...]
    ranks: np.ndarray  # int16 (n_distinct, n_options), UNRANKED where not ranked
    counts: np.ndarray  # float64 (n_distinct,), integral unless a file gave weights
    _orders: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        if len(set(self.options)) != len(self.options):
            raise ProfileError(f"option names must be distinct, got {list(self.options)}")
        if self.ranks.ndim != 2 or self.ranks.shape[1] != len(self.options):
            raise ProfileError(
                f"ranks must have one column per option ({len(self.options)}), got shape {self.ranks.shape}"
            )
        if self.ranks.shape[0] != self.counts.shape[0]:
            raise ProfileError("ranks and counts must have the same number of rows")
        if self.counts.size and (self.counts.min() < 0 or not np.isfinite(self.counts).all()):
            raise ProfileError("ballot counts must be finite and not negative")

    # ----- construction -------------------------------------------------

    @classmethod
    def from_orders(cls, options: Sequence[str], orders, counts=None) -> "Profile":
        """Strict, possibly truncated rankings: row = option indices best first, -1 pads the end.

        This is the fast path for a ballot store: it collapses the raw rows to
        distinct rankings before doing any per-ballot work.
        """
        options = tuple(options)
        m = len(options)
        orders = np.asarray(orders)
        if orders.ndim != 2:
            raise ProfileError("orders must be a 2-d array (ballots x positions)")
        if orders.shape[1] > m:
            orders = orders[:, :m]
        counts = _counts(counts, orders.shape[0])
        if orders.size and (orders.min() < -1 or orders.max() >= m):
            bad = int(np.argmax((orders < -1) | (orders >= m)).__index__() // max(orders.shape[1], 1))
            raise ProfileError(f"ballot {bad}: option index out of range 0..{m - 1}")
        rows, counts = _collapse(orders.astype(np.int64) + 1, counts, m + 1)
        rows -= 1
        ranked = rows >= 0
        if (ranked[:, 1:] & ~ranked[:, :-1]).any():
            raise ProfileError("a ranking has a gap: -1 may only pad the end of a row")
        srt = np.sort(np.where(ranked, rows, -1 - np.arange(rows.shape[1])), axis=1)
        if (srt[:, 1:] == srt[:, :-1]).any():
            raise ProfileError("a ranking names the same option twice")
        ranks = np.full((rows.shape[0], m), UNRANKED, dtype=np.int16)
        r, k = np.nonzero(ranked)
        ranks[r, rows[r, k]] = k
        keep = counts > 0
        return cls(options, ranks[keep], counts[keep], rows[keep].astype(np.int16))

    @classmethod
    def from_ranks(cls, options: Sequence[str], ranks, counts=None) -> "Profile":
        """Rankings given as positions per option (any ints, smaller is better; negative = unranked).

        Ties are equal positions. Positions are made dense (0, 1, 2...) so that
        equal ballots written differently merge.
        """
        options = tuple(options)
        m = len(options)
        ranks = np.asarray(ranks)
        if ranks.ndim != 2 or ranks.shape[1] != m:
            raise ProfileError(f"ranks must have shape (ballots, {m}), got {ranks.shape}")
        counts = _counts(counts, ranks.shape[0])
        ranks = ranks.astype(np.int64)
        unranked = (ranks < 0) | (ranks >= UNRANKED)
        if ranks.size and not unranked.all() and ranks[~unranked].max() <= m:
            rows, counts = _collapse(np.where(unranked, m + 1, ranks), counts, m + 2)
            unranked = rows == m + 1
        else:
            rows = ranks
        dense = _dense(np.where(unranked, np.iinfo(np.int64).max, rows), unranked)
        dense, counts = _collapse(np.where(dense == UNRANKED, m, dense).astype(np.int64), counts, m + 1)
        dense[dense == m] = UNRANKED
        keep = counts > 0
        return cls(options, dense[keep].astype(np.int16), counts[keep])

    @classmethod
    def from_rankings(cls, options: Sequence[str], rankings: Iterable, counts=None) -> "Profile":
        """Small profiles written by hand: each ranking lists options (names or indices) best first;
        a tuple, list or set inside a ranking is a group of tied options."""
        options = tuple(options)
        index = {name: i for i, name in enumerate(options)}
        rows = []
        for b, ranking in enumerate(rankings):
            row = [-1] * len(options)
            for pos, group in enumerate(ranking):
                members = group if isinstance(group, (tuple, list, set, frozenset)) else (group,)
                for opt in members:
                    i = _option_index(opt, index, len(options), b)
                    if row[i] != -1:
                        raise ProfileError(f"ballot {b}: option {options[i]!r} is ranked twice")
                    row[i] = pos
            rows.append(row)
        ranks = np.array(rows, dtype=np.int64).reshape(len(rows), len(options))
        return cls.from_ranks(options, ranks, counts)

    # ----- views ----------------------------------------------------------

    @property
    def n_options(self) -> int:
        return len(self.options)

    @property
    def n_ballots(self) -> float:
        return float(self.counts.sum())

    @property
    def has_ties(self) -> bool:
        if self._orders is not None:
            return False
        srt = np.sort(self.ranks, axis=1)
        return bool(((srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] != UNRANKED)).any())

    def orders(self) -> np.ndarray:
        """Option indices best first, -1 padded; only for strict rankings."""
        if self._orders is not None:
            return self._orders
        if self.has_ties:
            raise ProfileError("this method needs strict rankings, but some ballots rank options equal")
        order = np.argsort(self.ranks, axis=1, kind="stable").astype(np.int16)
        order[np.take_along_axis(self.ranks, order, axis=1) == UNRANKED] = -1
        object.__setattr__(self, "_orders", order)
        return order

    def rankings(self) -> list[tuple[list[list[str]], float]]:
        """Readable form: [(groups best first, count)], for writers and tests."""
        out = []
        for row, count in zip(self.ranks, self.counts):
            groups: dict[int, list[str]] = {}
            for i in np.argsort(row, kind="stable"):
                if row[i] != UNRANKED:
                    groups.setdefault(int(row[i]), []).append(self.options[i])
            out.append(([groups[k] for k in sorted(groups)], float(count)))
        return out

    def without(self, options: Iterable[str]) -> "Profile":
        """The same ballots with some options withdrawn (their positions are skipped)."""
        drop = set(options)
        unknown = drop - set(self.options)
        if unknown:
            raise ProfileError(f"unknown option(s): {sorted(unknown)}")
        keep = [i for i, o in enumerate(self.options) if o not in drop]
        ranks = self.ranks[:, keep].astype(np.int64)
        ranks[ranks == UNRANKED] = -1
        return Profile.from_ranks([self.options[i] for i in keep], ranks, self.counts)

    def pairwise(self) -> np.ndarray:
        """d[i, j] = weight of ballots ranking i strictly above j (unranked is below every ranked)."""
        m = self.n_options
        d = np.zeros((m, m))
        if not len(self.counts):
            return d
        ranks = self.ranks
        counts = self.counts
        for i in range(m):
            # One boolean block per option keeps memory at n_distinct x m.
            d[i] = counts @ (ranks[:, i : i + 1] < ranks)
        return d


def _option_index(opt, index, m, b) -> int:
    if isinstance(opt, (int, np.integer)) and not isinstance(opt, bool):
        if 0 <= opt < m:
            return int(opt)
        raise ProfileError(f"ballot {b}: option index {opt} out of range 0..{m - 1}")
    try:
        return index[opt]
    except KeyError:
        raise ProfileError(f"ballot {b}: unknown option {opt!r}") from None


def _counts(counts, n) -> np.ndarray:
    if counts is None:
        return np.ones(n)
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (n,):
        raise ProfileError(f"counts must have one entry per ballot ({n}), got shape {counts.shape}")
    if n and (counts.min() < 0 or not np.isfinite(counts).all()):
        raise ProfileError("ballot counts must be finite and not negative")
    return counts


def _collapse(rows: np.ndarray, counts: np.ndarray, base: int):
    """Merge equal rows (entries in 0..base-1), summing their counts."""
    n, m = rows.shape
    if n == 0:
        return rows.reshape(0, m), counts
    if m * np.log2(base) < 62:
        # One int64 key per row sorts far faster than a lexicographic unique over rows.
        key = np.zeros(n, dtype=np.int64)
        for k in range(m):
            key *= base
            key += rows[:, k]
        uniq, inverse = np.unique(key, return_inverse=True)
        summed = np.bincount(inverse, weights=counts, minlength=len(uniq))
        out = np.empty((len(uniq), m), dtype=np.int64)
        rest = uniq.copy()
        for k in range(m - 1, -1, -1):
            out[:, k] = rest % base
            rest //= base
        return out, summed
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inverse.ravel(), weights=counts, minlength=len(uniq))


def _dense(values: np.ndarray, unranked: np.ndarray) -> np.ndarray:
    """Per row, replace values by dense ranks 0, 1, 2... (equal values share a rank)."""
    if values.size == 0:
        return values.astype(np.int64)
    order = np.argsort(values, axis=1, kind="stable")
    srt = np.take_along_axis(values, order, axis=1)
    step = np.concatenate([np.zeros((len(srt), 1), dtype=np.int64), (srt[:, 1:] != srt[:, :-1]).astype(np.int64)], axis=1)
    dense_sorted = np.cumsum(step, axis=1)
    dense = np.empty_like(dense_sorted)
    np.put_along_axis(dense, order, dense_sorted, axis=1)
    dense[unranked] = UNRANKED
    return dense
