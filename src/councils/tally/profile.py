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
    # int16 (n_distinct, n_options), UNRANKED where not ranked; see ``ranks``. A profile of
    # strict rankings may be made from its orders alone: the table is then built when first asked for,
    # since IRV, STV and the pairwise matrix of few options never need it.
    _ranks: np.ndarray | None = field(repr=False)
    counts: np.ndarray  # float64 (n_distinct,), integral unless a file gave weights
    _orders: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        if len(set(self.options)) != len(self.options):
            raise ProfileError(f"option names must be distinct, got {list(self.options)}")
        if self._ranks is None:
            if self._orders is None or self._orders.shape[0] != self.counts.shape[0]:
                raise ProfileError("orders and counts must have the same number of rows")
            return
        if self._ranks.ndim != 2 or self._ranks.shape[1] != len(self.options):
            raise ProfileError(
                f"ranks must have one column per option ({len(self.options)}), got shape {self._ranks.shape}"
            )
        if self._ranks.shape[0] != self.counts.shape[0]:
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
            if (orders[:, m:] != -1).any():
                raise ProfileError("a ranking names the same option twice")  # more than m options
            orders = orders[:, :m]
        weights = None if counts is None else _counts(counts, orders.shape[0])
        if orders.size and (orders.min() < -1 or orders.max() >= m):
            bad = int(np.argmax((orders < -1) | (orders >= m)).__index__() // max(orders.shape[1], 1))
            raise ProfileError(f"ballot {bad}: option index out of range 0..{m - 1}")
        # Collapse first: everything below runs on distinct rankings only.
        width = orders.shape[1]
        keyed = _distinct_keys(orders, weights, m + 1, offset=1)
        if keyed is not None:
            keys, counts, bits = keyed
            mask = (1 << bits) - 1

            def column(k):
                return (keys >> (bits * (width - 1 - k))) & mask
        else:
            rows, counts = _collapse(orders, weights, m + 1, offset=1)

            def column(k):
                return rows[:, k]
        orders16, ranks = _strict_orders(column, len(counts), width, m)
        keep = counts > 0
        if not keep.all():
            counts, orders16 = counts[keep], orders16[keep]
            ranks = None if ranks is None else ranks[keep]
        return cls(options, ranks, counts, orders16)

    @classmethod
    def _from_checked_orders(cls, options: Sequence[str], orders: np.ndarray, counts: np.ndarray) -> "Profile":
        """``from_orders`` for rankings a reader has already checked (indices in range, none repeated,
        -1 only at the end): distinct rankings are found from packed keys and copied out whole."""
        options = tuple(options)
        m = len(options)
        first = _distinct_first(orders, counts, m + 1, offset=1)
        if first is None:
            return cls.from_orders(options, orders, counts)
        rows, summed = first
        keep = summed > 0
        if not keep.all():
            rows, summed = rows[keep], summed[keep]
        by_position = np.ascontiguousarray(orders[rows].T, dtype=np.int16)
        return cls(options, None, summed, by_position.T)

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
    def ranks(self) -> np.ndarray:
        """int16 (n_distinct, n_options): entry [b, o] is option o's position on ranking b, UNRANKED if absent."""
        if self._ranks is None:
            object.__setattr__(self, "_ranks", _ranks_of(self._orders, self.n_options))
        return self._ranks

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

    def margin_rows(self):
        """A function giving, for some options (an index array), their rows of the margin matrix
        d[rows, :] - d[:, rows].T, without building the pairwise matrix of all options."""
        m = self.n_options
        if not self.has_ties:
            orders = self.orders()
            lengths = np.count_nonzero(orders >= 0, axis=1)
            if float(np.square(lengths, dtype=np.float64).sum()) <= _PAIR_CELLS:
                import scipy.sparse

                # d[a, b] = ranked[a] - both[a, b] (see _pairwise_short): the margin is a difference of
                # ranked counts, corrected where two options were ranked on the same ballots.
                ranked, cells, weights = _pairwise_short_parts(orders, lengths, self.counts, m)
                both = scipy.sparse.csr_matrix((weights, (cells // m, cells % m)), shape=(m, m))
                skew = (both.T - both).tocsr()

                def rows_of(rows):
                    margin = ranked[rows, None] - ranked[None, :]
                    part = skew[rows].tocoo()
                    margin[part.row, part.col] += part.data
                    return margin

                return rows_of
        ranks = self.ranks
        counts = self.counts

        def rows_of(rows):
            # One ranking at a time: time grows as rankings x options x len(rows). Rankings of one weight are summed
            # as whole numbers first (a comparison each way, no signs or products per cell).
            margin = np.zeros((len(rows), m))
            for weight in np.unique(counts).tolist():
                wins = np.zeros((len(rows), m), dtype=np.int64)
                for b in np.flatnonzero(counts == weight).tolist():
                    row = ranks[b]
                    ranked = row[rows, None]
                    wins += np.less(ranked, row[None, :])
                    wins -= np.greater(ranked, row[None, :])
                margin += weight * wins
            return margin

        return rows_of

    def pairwise_rows(self):
        """A function giving, for some options (an index array), their rows d[rows, :] of the pairwise matrix,
        without building the matrix of all options (see ``margin_rows``)."""
        m = self.n_options
        if not self.has_ties:
            orders = self.orders()
            lengths = np.count_nonzero(orders >= 0, axis=1)
            if float(np.square(lengths, dtype=np.float64).sum()) <= _PAIR_CELLS:
                import scipy.sparse

                ranked, cells, weights = _pairwise_short_parts(orders, lengths, self.counts, m)
                both = scipy.sparse.csr_matrix((weights, (cells // m, cells % m)), shape=(m, m))

                def rows_of(rows):
                    d = np.repeat(ranked[rows, None], m, axis=1)
                    part = both[rows].tocoo()
                    np.subtract.at(d, (part.row, part.col), part.data)
                    return d

                return rows_of
        ranks = self.ranks
        counts = self.counts

        def rows_of(rows):
            d = np.zeros((len(rows), m))
            for b in range(len(counts)):
                row = ranks[b]
                d += counts[b] * (row[rows, None] < row[None, :])
            return d

        return rows_of

    def pairwise(self) -> np.ndarray:
        """d[i, j] = weight of ballots ranking i strictly above j (unranked is below every ranked)."""
        m = self.n_options
        d = np.zeros((m, m))
        if not len(self.counts):
            return d
        if m <= _MASK_OPTIONS and _whole(self.counts) and not self.has_ties:
            return _pairwise_strict(self.orders(), self.counts, m)
        n = len(self.counts)
        if m > _MASK_OPTIONS and not self.has_ties:
            orders = self.orders()
            lengths = np.count_nonzero(orders >= 0, axis=1)
            # Short rankings of many options: work per pair of ranked places, not per pair of options.
            if float(np.square(lengths, dtype=np.float64).sum()) <= min(float(n) * m * m, _PAIR_CELLS):
                return _pairwise_short(orders, lengths, self.counts, m)
        ranks = self.ranks
        counts = self.counts
        if m > _MASK_OPTIONS and n < m:
            # Few rankings of many options: one ranking at a time (an m x m block each).
            for b in range(n):
                row = ranks[b]
                d += counts[b] * (row[:, None] < row[None, :])
            return d
        for i in range(m):
            # One boolean block per option keeps memory at n_distinct x m.
            d[i] = counts @ (ranks[:, i : i + 1] < ranks)
        return d


# Pairs of ranked places (summed over distinct rankings) up to which _pairwise_short is used.
_PAIR_CELLS = 5e7


def _pairwise_short(orders: np.ndarray, lengths: np.ndarray, counts: np.ndarray, m: int) -> np.ndarray:
    """Pairwise matrix of strict rankings that are short beside the number of options.

    A ranking puts each option it ranks above every option it leaves out and above the
    ones it ranks later. So d[a, b] = ranked[a] - both[a, b], where ranked[a] is the weight
    of the rankings that rank a, and both[a, b] that of those ranking b at or above a:
    one pass over each pair of ranked places (q <= p), never over pairs of options.
    """
    ranked, cells, weights = _pairwise_short_parts(orders, lengths, counts, m)
    both = np.bincount(cells, weights=weights, minlength=m * m).reshape(m, m)
    np.subtract(ranked[:, None], both, out=both)
    return both


def _pairwise_short_parts(orders, lengths, counts, m):
    """ranked[a], and (a * m + b, weight) for every ranking's pair of places with b at or above a."""
    width = orders.shape[1]
    valid = orders >= 0
    weight = np.broadcast_to(counts[:, None], orders.shape)
    ranked = np.bincount(orders[valid], weights=weight[valid], minlength=m).astype(np.float64)
    cells, weights = [], []
    for p in range(width):
        rows = np.flatnonzero(lengths > p)
        if not len(rows):
            break
        below = orders[rows, p].astype(np.intp) * m
        for q in range(p + 1):
            cells.append(below + orders[rows, q])
            weights.append(counts[rows])
    if not cells:
        return ranked, np.zeros(0, dtype=np.intp), np.zeros(0)
    return ranked, np.concatenate(cells), np.concatenate(weights)


# Strict rankings of up to this many options get their pairwise matrix from option sets as bit masks.
_MASK_OPTIONS = 16


def _whole(counts: np.ndarray) -> bool:
    """Whole-number counts, small enough that float64 sums of them are exact in any order."""
    return bool(np.array_equal(counts, np.floor(counts)) and counts.sum() < 2**53)


def _pairwise_strict(orders: np.ndarray, counts: np.ndarray, m: int) -> np.ndarray:
    """Pairwise matrix of strict (possibly truncated) rankings from one small histogram.

    The option at position k of a ballot beats exactly the options outside the
    set of its first k + 1 options (the rest of the ranking and every unranked
    option). So it is enough to know H[a, S]: the weight with which option a
    closed the prefix set S (2**m sets, as bit masks). Then d[a, b] is the sum
    of H[a, S] over the sets S without b: a (m x 2**m) @ (2**m x m) product.
    Column by column, the working arrays stay one ballot long and in cache.
    """
    n, width = orders.shape
    columns = np.ascontiguousarray(orders.T)
    bit = np.append(np.left_shift(1, np.arange(m)), 0)  # index -1 (padding): no option
    base = np.append(np.arange(m) << m, m << m)  # padding goes to a spare block of bins
    prefix = np.zeros(n, dtype=np.intp)
    key = np.empty(n, dtype=np.intp)
    hist = np.zeros((m + 1) << m)
    # An option in position m - 1 (the last of a complete ranking) beats no one.
    for k in range(min(width, m - 1)):
        col = columns[k].astype(np.intp)
        prefix |= bit[col]
        np.add(base[col], prefix, out=key)
        hist += np.bincount(key, weights=counts, minlength=len(hist))
    lacks = (np.arange(1 << m)[:, None] >> np.arange(m) & 1) == 0
    return hist[: m << m].reshape(m, 1 << m) @ lacks


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


def _distinct_keys(rows: np.ndarray, counts: np.ndarray | None, base: int, offset: int = 0):
    """Distinct rows as int64 keys, in the rows' lexicographic order, with summed counts (None: 1 each).

    A key holds a row's entries (plus ``offset``, in 0..base-1) as bit fields of
    ``bits`` bits, first entry highest. Sorting a million keys is far faster than a
    lexicographic unique over rows. Returns (keys, counts, bits), or None when a
    row does not fit in 62 bits.
    """
    n, m = rows.shape
    bits = max(int(base - 1).bit_length(), 1)
    if m * bits > 62:
        return None
    place = np.left_shift(1, bits * np.arange(m - 1, -1, -1, dtype=np.int64))
    # Column by column (Horner): no int64 copy of the whole table, and every array stays one row long.
    key = np.zeros(n, dtype=np.int64)
    for k in range(m):
        key <<= bits
        key += rows[:, k]
    if offset:
        key += offset * int(place.sum())
    if counts is None:
        # Every row counts 1: a plain sort, and the counts are the lengths of the runs.
        key.sort()
        first = _run_starts(key)
        starts = np.flatnonzero(first)
        return key[starts], np.diff(starts, append=n).astype(np.float64), bits
    # Fractional weights are added in their original order within each group (a stable sort), so the
    # sums are the same bits whatever the machine; whole weights add up exactly in any order.
    order = np.argsort(key, kind=None if _whole(counts) else "stable")
    key = key[order]
    starts = np.flatnonzero(_run_starts(key))
    if not len(starts):
        return key, np.zeros(0), bits
    return key[starts], np.add.reduceat(counts[order], starts), bits


def _distinct_first(rows: np.ndarray, counts: np.ndarray, base: int, offset: int = 0):
    """(index of one row of each distinct row, summed counts), distinct rows in lexicographic order,
    as ``_distinct_keys`` orders them; None when a row does not fit in a 62-bit key."""
    n, m = rows.shape
    bits = max(int(base - 1).bit_length(), 1)
    if m * bits > 62:
        return None
    key = np.zeros(n, dtype=np.int64)
    for k in range(m):
        key <<= bits
        key += rows[:, k]
    order = np.argsort(key, kind=None if _whole(counts) else "stable")
    key = key[order]
    starts = np.flatnonzero(_run_starts(key))
    if not len(starts):
        return order, np.zeros(0)
    return order[starts], np.add.reduceat(counts[order], starts)


def _run_starts(srt: np.ndarray) -> np.ndarray:
    first = np.empty(len(srt), dtype=bool)
    first[:1] = True
    np.not_equal(srt[1:], srt[:-1], out=first[1:])
    return first


def _collapse(rows: np.ndarray, counts: np.ndarray | None, base: int, offset: int = 0):
    """Merge equal rows (entries plus ``offset`` in 0..base-1), summing their counts (None: 1 each).

    Returns the distinct rows, plus ``offset``, in lexicographic order, as int64, and their counts.
    """
    n, m = rows.shape
    keyed = _distinct_keys(rows, counts, base, offset)
    if keyed is not None:
        keys, summed, bits = keyed
        shifts = bits * np.arange(m - 1, -1, -1, dtype=np.int64)
        return (keys[:, None] >> shifts) & ((1 << bits) - 1), summed
    if counts is None:
        counts = np.ones(n)
    if n == 0:
        return np.zeros((0, m), dtype=np.int64), counts
    uniq, inverse = np.unique(rows.astype(np.int64) + offset, axis=0, return_inverse=True)
    return uniq, np.bincount(inverse.ravel(), weights=counts, minlength=len(uniq))


def _strict_orders(column, n: int, width: int, m: int):
    """The orders (int16, n x width) of n distinct strict rankings, checked, one position at a time.

    ``column(k)`` gives position k of every ranking as option index + 1 (0: padding).
    Working one position at a time keeps every array one ranking long, so it stays in
    cache. A repeated option is caught with each ranking's set of options so far as a bit
    mask (up to 63 options); beyond that, by scattering positions into the ranks table,
    where an option named twice overwrites its own cell (and that table is returned too).
    Returns (orders, ranks table or None).
    """
    by_position = np.empty((width, n), dtype=np.int16)  # orders, transposed: position k is one row
    ended = np.zeros(n, dtype=bool)
    masks = m <= 63
    if masks:
        bit = np.zeros(m + 1, dtype=np.uint64)
        bit[1:] = np.left_shift(np.uint64(1), np.arange(m, dtype=np.uint64))
        seen = np.zeros(n, dtype=np.uint64)
        both = np.empty(n, dtype=np.uint64)
    else:
        table = np.full((n, m + 1), UNRANKED, dtype=np.int16)
        cells = table.ravel()
        row_start = np.arange(0, n * (m + 1), m + 1)
        ranked = 0
    for k in range(width):
        col = column(k)
        pad = col == 0
        if (ended & ~pad).any():
            raise ProfileError("a ranking has a gap: -1 may only pad the end of a row")
        ended = pad
        np.subtract(col, 1, out=by_position[k], casting="unsafe")
        if masks:
            b = bit[col]
            if np.bitwise_and(seen, b, out=both).any():
                raise ProfileError("a ranking names the same option twice")
            seen |= b
        else:
            cells[row_start + col] = k
            ranked += n - int(np.count_nonzero(pad))
    if masks:
        return by_position.T, None
    ranks = np.ascontiguousarray(table[:, 1:])
    if np.count_nonzero(ranks != UNRANKED) != ranked:
        raise ProfileError("a ranking names the same option twice")
    return by_position.T, ranks


def _ranks_of(orders: np.ndarray, m: int) -> np.ndarray:
    """The ranks table of strict orders (option indices best first, -1 padded)."""
    n, width = orders.shape
    table = np.full((n, m + 1), UNRANKED, dtype=np.int16)
    cells = table.ravel()
    row_start = np.arange(0, n * (m + 1), m + 1)
    for k in range(width):
        cells[row_start + orders[:, k] + 1] = k
    return np.ascontiguousarray(table[:, 1:])


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
