"""Methods built on the pairwise matrix: Condorcet winner, Schulze, ranked pairs, Copeland.

All of them read one matrix d[i, j] (weight of ballots ranking i above j), which
numpy builds from the distinct ballots in a single pass; after that the cost
depends only on the number of options.
"""

from __future__ import annotations

import numpy as np

from councils.tally.profile import UNRANKED, Profile, ProfileError
from typing import Sequence

from councils.tally import _graph
from councils.tally._count import lots_for
from councils.tally.results import TallyResult


def condorcet_winner(profile: Profile) -> str | None:
    """The option that beats every other head to head, if there is one."""
    return _condorcet(profile.pairwise(), profile.options)


def tally_condorcet(profile: Profile) -> TallyResult:
    d = profile.pairwise()
    winner = _condorcet(d, profile.options)
    result = TallyResult(
        method="condorcet", options=list(profile.options), winners=[winner] if winner else [],
        pairwise=d.tolist(), ballots=profile.n_ballots, totals=_wins(d, profile.options),
    )
    if winner is None:
        result.notes.append("no Condorcet winner: every option loses or ties at least one contest")
    return result


def tally_schulze(profile: Profile, *, seed: int | None = None, tie_order: Sequence[str] | None = None) -> TallyResult:
    """Schulze method with winning votes, as in Schulze (2011), section 2.

    The strength of a direct link a->b is d[a,b] when a beats b, else 0; the
    strongest path strengths p come from a widest-path Floyd-Warshall; a ranks
    above b when p[a,b] > p[b,a], which Schulze proves is a strict weak order,
    so the full ranking (with its ties) follows. Several potential winners are
    settled by lot.
    """
    if profile.n_options > MATRIX_OPTIONS:
        return _schulze_many(profile, seed, tie_order)
    d = profile.pairwise()
    names = profile.options
    p = np.where(d > d.T, d, 0.0)
    m = len(names)
    through = np.empty_like(p)
    for k in range(m):
        # Vectorised over (i, j), in place (no new m x m array per k); the diagonal never helps a path.
        np.minimum(p[:, k : k + 1], p[k : k + 1, :], out=through)
        np.maximum(p, through, out=p)
    np.fill_diagonal(p, 0.0)
    beats = p > p.T
    ranking = _levels(None, names, strict_weak=False, above=beats)
    lots = lots_for(profile, seed, tie_order)
    top = ranking[0] if ranking else []
    winners = [top[lots.choose(top, "schulze: several potential winners")]] if len(top) > 1 else list(top)
    return TallyResult(
        method="schulze", options=list(names), winners=winners, ranking=ranking,
        totals={n: float(w) for n, w in zip(names, beats.sum(axis=1))}, pairwise=d.tolist(),
        ballots=profile.n_ballots, seed=lots.seed, lots=lots.log,
        extra={"strongest_paths": p.tolist()},
    )


def tally_ranked_pairs(profile: Profile, *, seed: int | None = None,
                       tie_order: Sequence[str] | None = None) -> TallyResult:
    """Ranked pairs (Tideman 1987) on margins, with the Zavist-Tideman tie-break.

    Majorities are locked in from the largest margin down unless they would
    close a cycle. Equal margins are ordered by a tie-breaking ranking of the
    options drawn by lot (TBRC): the pair whose winner stands higher in it
    first, then the pair whose loser stands lower. The lot is drawn and recorded
    only when equal margins or an unresolved top make it matter.
    """
    if profile.n_options > MATRIX_OPTIONS:
        return _ranked_pairs_many(profile, seed, tie_order)
    d = profile.pairwise()
    names = profile.options
    m = len(names)
    margin = d - d.T
    lots = lots_for(profile, seed, tie_order)
    win, lose = np.nonzero(margin > 0)
    margins = margin[win, lose]
    tie_in_margins = len(np.unique(margins)) != len(margins)
    # Position of each option in the tie-breaking ranking.
    tbrc = _tie_breaking_ranking(names, lots, "equal margins ordered") if tie_in_margins else np.arange(m)
    order = np.lexsort((-tbrc[lose], tbrc[win], -margins))
    reach = np.eye(m, dtype=bool)  # reach[a, b]: a path a -> b is locked
    locked = []
    for i, j, mg in zip(win[order].tolist(), lose[order].tolist(), margins[order].tolist()):
        if reach[j, i]:
            continue  # it would close a cycle
        locked.append((names[i], names[j], mg))
        if reach[i, j]:
            continue  # already implied by what is locked: nothing new is reachable
        # Everything that reaches i now reaches everything j reaches.
        reach[np.ix_(np.flatnonzero(reach[:, i]), np.flatnonzero(reach[j]))] = True
    above = reach & ~np.eye(m, dtype=bool)
    ranking = _levels(above.sum(axis=1), names, strict_weak=False, above=above)
    winners = _settle_top(ranking, names, lots, tbrc if tie_in_margins else None)
    return TallyResult(
        method="ranked_pairs", options=list(names), winners=winners, ranking=ranking,
        totals={n: float(x) for n, x in zip(names, above.sum(axis=1))}, pairwise=d.tolist(),
        ballots=profile.n_ballots, seed=lots.seed, lots=lots.log,
        extra={"locked": [list(t) for t in locked]},
    )


def tally_copeland(profile: Profile, *, seed: int | None = None, tie_order: Sequence[str] | None = None) -> TallyResult:
    """Copeland: head-to-head wins minus losses; a tie for the top is settled by lot.

    Above MATRIX_OPTIONS options the scores are counted block by block of rows of the
    pairwise matrix, never holding all of it (10,000 options would be 800 MB), and the
    result leaves the matrix out.
    """
    names = profile.options
    if profile.n_options > MATRIX_OPTIONS:
        d = None
        score = _copeland_by_blocks(profile)
    else:
        d = profile.pairwise()
        score = (d > d.T).sum(axis=1) - (d < d.T).sum(axis=1)
    ranking = _levels(score, names)
    lots = lots_for(profile, seed, tie_order)
    top = ranking[0] if ranking else []
    winners = [top[lots.choose(top, "copeland: tie for the best score")]] if len(top) > 1 else list(top)
    return TallyResult(
        method="copeland", options=list(names), winners=winners, ranking=ranking,
        totals={n: float(s) for n, s in zip(names, score)}, pairwise=None if d is None else d.tolist(),
        ballots=profile.n_ballots, seed=lots.seed, lots=lots.log,
        notes=[] if d is not None else [f"{len(names):,} options: the pairwise matrix is not included"],
    )


# Up to this many options a result carries the whole pairwise matrix (a million numbers).
MATRIX_OPTIONS = 1_000


def _copeland_by_blocks(profile: Profile) -> np.ndarray:
    """Wins minus losses of every option, from blocks of rows of the pairwise matrix."""
    m = profile.n_options
    rows_of = profile.margin_rows()
    score = np.zeros(m, dtype=np.int64)
    step = max(1, (1 << 20) // m)  # blocks of about a million cells, reused from block to block
    for start in range(0, m, step):
        block = np.arange(start, min(start + step, m))
        margin = rows_of(block)
        score[block] = np.count_nonzero(margin > 0, axis=1) - np.count_nonzero(margin < 0, axis=1)
    return score


def _condorcet(d, names) -> str | None:
    wins = (d > d.T).sum(axis=1)
    best = np.flatnonzero(wins == len(names) - 1)
    return names[int(best[0])] if len(best) == 1 else None


def _wins(d, names) -> dict[str, float]:
    return {n: float(w) for n, w in zip(names, (d > d.T).sum(axis=1))}


def _levels(score, names, strict_weak=True, above=None) -> list[list[str]]:
    if strict_weak:
        order = np.argsort(-np.asarray(score), kind="stable")
        ranked = np.asarray(score)[order]
        cuts = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
        return [[names[i] for i in group] for group in np.split(order, cuts)] if len(order) else []
    # A partial order (ranked pairs with zero margins): peel off the unbeaten level by level.
    left = list(range(len(names)))
    levels = []
    while left:
        level = [i for i in left if not any(above[j, i] for j in left if j != i)]
        levels.append([names[i] for i in level])
        left = [i for i in left if i not in level]
    return levels


# ----- many options: the strong components of the majority graph -----------------------------------------------
#
# Above MATRIX_OPTIONS options neither method holds the pairwise matrix (10,000 options: 800 MB) nor runs its cubic
# loop over all options. A majority a -> b that lies on no cycle of majorities decides by itself in both methods, so
# the work is: the majority graph as one boolean matrix (built block by block of margin rows), its strong components
# (``_graph.components``), and inside each component holding a cycle the method's own rule, on that component's
# options only. Real elections' majority graphs are mostly single options; the cost beyond the square of the options
# grows with the components' sizes (see docs/voting-methods.md, "Many options").


def _majority_graph(profile: Profile, margins_seen: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """adj[a, b]: a majority prefers a to b (d[a, b] > d[b, a]), block by block of margin rows, and its transpose
    (a majority prefers b to a). With
    ``margins_seen`` (a list), appends True if two positive margins are equal (ranked pairs' tie-break needs it)."""
    m = profile.n_options
    rows_of = profile.margin_rows()
    adj = np.zeros((m, m), dtype=bool)
    into = np.zeros((m, m), dtype=bool)
    step = max(1, (1 << 20) // m)
    tie = margins_seen is None
    whole = bool(np.array_equal(profile.counts, np.floor(profile.counts)))
    total = float(profile.counts.sum())
    seen = np.zeros(0)
    positive = 0
    for start in range(0, m, step):
        block = np.arange(start, min(start + step, m))
        margin = rows_of(block)
        np.greater(margin, 0, out=adj[start:start + len(block)])
        np.less(margin, 0, out=into[start:start + len(block)])
        if not tie:
            values = margin[margin > 0]
            positive += len(values)
            # Whole counts give whole margins from 1 to the number of ballots: more margins than that repeat one.
            if whole and positive > total:
                tie = True
                continue
            distinct = np.unique(values)
            if len(distinct) < len(values) or len(np.intersect1d(distinct, seen, assume_unique=True)):
                tie = True
                continue
            seen = np.union1d(seen, distinct)
    if margins_seen is not None:
        margins_seen.append(tie)
    return adj, into


def _rows_of_matrix(rows_of, nodes: np.ndarray) -> np.ndarray:
    """The square block [nodes, nodes] of a matrix given by rows, block by block of rows."""
    out = np.empty((len(nodes), len(nodes)))
    step = max(1, (1 << 22) // max(1, len(nodes)))
    for start in range(0, len(nodes), step):
        out[start:start + step] = rows_of(nodes[start:start + step])[:, nodes]
    return out


# Options on cycles of majorities together (one strong component of the majority graph) that Schulze and ranked pairs
# count above MATRIX_OPTIONS options: inside such a component their work grows as its square (Schulze) or the cube
# (ranked pairs' locking). Real elections' components hold a few dozen options at most; random complete rankings
# of thousands of options put nearly all of them in one, and are refused at once rather than left running.
MAX_CYCLE_OPTIONS = 2_000


def _check_cycles(label: np.ndarray, method: str) -> None:
    largest = int(np.bincount(label).max()) if len(label) else 0
    if largest > MAX_CYCLE_OPTIONS:
        raise ProfileError(f"{method} counts many options when at most {MAX_CYCLE_OPTIONS:,} of them lie on cycles of "
                           f"majorities together; here {largest:,} do (each beats another that beats it by a chain "
                           "of majorities): use IRV, STV or Copeland")


class _Nested:
    """A set of options (``nodes``) with their links (``adj``) split into strong components; successors of a
    component: the nodes of the components its links reach directly. The last answer is kept: callers walk the
    options component by component."""

    def __init__(self, nodes: np.ndarray, adj: np.ndarray, n: int, into: np.ndarray | None = None):
        self.nodes, self.adj, self.n = nodes, adj, n
        self.label = _graph.components(adj, into)
        self.groups = _graph.members(self.label)
        sizes = np.bincount(self.label)
        self.in_cycle = sizes[self.label] > 1  # nodes of components with more than one node
        self.whole = len(nodes) == n  # the top: local and global numbers are the same
        self._last: tuple[int, np.ndarray] | None = None

    def successors(self, comp: int) -> np.ndarray:
        if self._last is not None and self._last[0] == comp:
            return self._last[1]
        group = self.groups[comp]
        reached = self.adj[group[0]].copy() if len(group) == 1 else self.adj[group].any(axis=0)
        # A link into a component reaches all of it.
        into_cycles = reached & self.in_cycle
        if into_cycles.any():
            hit = np.zeros(len(self.groups), dtype=bool)
            hit[self.label[into_cycles]] = True
            reached |= hit[self.label]
        reached[group] = False
        if self.whole:
            mask = reached
        else:
            mask = np.zeros(self.n, dtype=bool)
            mask[self.nodes[reached]] = True
        self._last = (comp, mask)
        return mask


def _schulze_many(profile: Profile, seed, tie_order) -> TallyResult:
    """Schulze on many options, without the widest-path loop over all of them.

    The strongest path a -> b is at least as strong as every link of a strong component holding both, and a path
    stronger than the weakest link w of their component uses only links stronger than w. So: a beats b when a's
    component reaches b's in the majority graph; inside a component, drop its weakest links and split what is left
    into strong components again: a beats b when a's part reaches b's, and a part that still holds a cycle is split
    the same way, until none does. This is the relation p[a, b] > p[b, a] of the widest paths, exactly.
    """
    names = profile.options
    work, kept = _ranked_only(profile)
    level, below = _bottom_added(*_schulze_order(work), kept, len(names))
    ranking = _graph.level_lists(level, names)
    lots = lots_for(profile, seed, tie_order)
    first = ranking[0] if ranking else []
    winners = [first[lots.choose(first, "schulze: several potential winners")]] if len(first) > 1 else list(first)
    return TallyResult(
        method="schulze", options=list(names), winners=winners, ranking=ranking,
        totals={nm: float(w) for nm, w in zip(names, below)}, pairwise=None,
        ballots=profile.n_ballots, seed=lots.seed, lots=lots.log,
        notes=[f"{len(names):,} options: the pairwise matrix and the strongest paths are not included"],
    )


def _schulze_order(profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """Levels and how many options each beats, by Schulze's relation (see ``_schulze_many``)."""
    n = profile.n_options
    adj, into = _majority_graph(profile)
    top = _Nested(np.arange(n), adj, n, into)
    del into
    _check_cycles(top.label, "Schulze")
    d_rows = profile.pairwise_rows()
    where: list[list[tuple[_Nested, int]]] = [[(top, int(c))] for c in top.label]
    order: list[int] = []

    # Depth first through the components and the parts they split into, with a stack of our own (a component may
    # split many times over, deeper than Python's recursion goes): the options come out in an order every
    # relation points forward in.
    stack: list[tuple[_Nested, np.ndarray | None, int]] = [(top, None, 0)]
    while stack:
        part, strengths, comp = stack.pop()
        if comp >= len(part.groups):
            continue
        stack.append((part, strengths, comp + 1))
        local = part.groups[comp]
        if len(local) == 1:
            order.append(int(part.nodes[local[0]]))
            continue
        nodes = part.nodes[local]
        if strengths is None:  # the top: links' strengths are winning votes, d[a, b] where a beats b
            inner = np.where(part.adj[np.ix_(local, local)], _rows_of_matrix(d_rows, nodes), 0.0)
        else:
            inner = strengths[np.ix_(local, local)]
        weakest = inner[part.adj[np.ix_(local, local)]].min()
        stronger = inner > weakest
        sub = _Nested(nodes, stronger, n, np.ascontiguousarray(stronger.T))
        for c, group in enumerate(sub.groups):
            for x in nodes[group].tolist():
                where[x].append((sub, c))
        stack.append((sub, inner, 0))

    def successors(x: int) -> np.ndarray:
        parts = where[x]
        if len(parts) == 1:
            return parts[0][0].successors(parts[0][1])
        mask = np.zeros(n, dtype=bool)
        for part, comp in parts:
            mask |= part.successors(comp)
        return mask

    return _graph.levels_and_below(n, np.array(order, dtype=np.intp), successors)


def _ranked_pairs_many(profile: Profile, seed, tie_order) -> TallyResult:
    """Ranked pairs on many options, locking pairs only inside the strong components of the majority graph.

    A cycle of locked majorities is a cycle of majorities, so it lies inside one strong component: every majority
    between two components is locked, and inside a component the pairs are locked in the same order (margins, then
    the tie-breaking ranking) as among all pairs, skipping those that would close a cycle, as ``tally_ranked_pairs``.
    """
    names = profile.options
    m = len(names)
    work, kept = _ranked_only(profile)
    tie = []
    adj, into = _majority_graph(work, tie)
    # Two options no ballot ranks: each ranked option beats both by the same margin.
    tie_in_margins = tie[0] or len(kept) < m
    lots = lots_for(profile, seed, tie_order)
    tbrc = _tie_breaking_ranking(names, lots, "equal margins ordered") if tie_in_margins else np.arange(m)
    label = _graph.components(adj, into)
    del into
    _check_cycles(label, "ranked pairs")
    groups = _graph.members(label)
    margin_rows = work.margin_rows()
    work_tbrc = tbrc[kept]
    inside: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # component -> (its nodes, what each reaches inside)
    order: list[int] = []
    for comp, nodes in enumerate(groups):
        if len(nodes) == 1:
            order.append(int(nodes[0]))
            continue
        reach = _lock(_rows_of_matrix(margin_rows, nodes), work_tbrc[nodes])
        inside[comp] = (nodes, reach)
        # Inside a component, an option reaching more comes first: every locked pair then points forward.
        below = reach.sum(axis=1)
        order.extend(nodes[np.argsort(-below, kind="stable")].tolist())
    position = {}
    for comp, (nodes, _) in inside.items():
        for k, x in enumerate(nodes.tolist()):
            position[x] = k

    def successors(x: int) -> np.ndarray:
        mask = adj[x] & (label != label[x])
        comp = int(label[x])
        if comp in inside:
            nodes, reach = inside[comp]
            mask[nodes[reach[position[x]]]] = True
        return mask

    level, below = _bottom_added(*_graph.levels_and_below(len(kept), np.array(order, dtype=np.intp), successors), kept, m)
    ranking = _graph.level_lists(level, names)
    winners = _settle_top(ranking, names, lots, tbrc if tie_in_margins else None)
    return TallyResult(
        method="ranked_pairs", options=list(names), winners=winners, ranking=ranking,
        totals={nm: float(x) for nm, x in zip(names, below)}, pairwise=None,
        ballots=profile.n_ballots, seed=lots.seed, lots=lots.log,
        notes=[f"{m:,} options: the pairwise matrix and the locked pairs are not included"],
    )


def _ranked_only(profile: Profile) -> tuple[Profile, np.ndarray]:
    """The options some ballot ranks, as a profile of their own, and their indices, when two or more options are
    ranked by no ballot (most, in a file of thousands): each of those loses to every ranked option and ties with the
    others, so together they are the last level and the count needs only the ranked ones."""
    m = profile.n_options
    if profile.has_ties:
        ranked = profile.counts @ (profile.ranks != UNRANKED) > 0
    else:
        orders = profile.orders()
        valid = orders >= 0
        ranked = np.bincount(orders[valid], weights=np.broadcast_to(profile.counts[:, None], orders.shape)[valid],
                             minlength=m) > 0
    kept = np.flatnonzero(ranked)
    if m - len(kept) < 2 or not len(kept):
        return profile, np.arange(m)
    names = [profile.options[i] for i in kept]
    if profile.has_ties:
        return profile.without([profile.options[i] for i in np.flatnonzero(~ranked)]), kept
    new = np.full(m + 1, -1, dtype=np.int64)
    new[kept] = np.arange(len(kept))
    return Profile.from_orders(names, new[profile.orders().astype(np.int64)], profile.counts), kept


def _bottom_added(level: np.ndarray, below: np.ndarray, kept: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Levels and counts of all ``m`` options from those of the ``kept`` (ranked) ones: the others come last."""
    if len(kept) == m:
        return level, below
    all_level = np.full(m, int(level.max()) + 1 if len(level) else 1, dtype=np.int64)
    all_below = np.zeros(m, dtype=np.int64)
    all_level[kept] = level
    all_below[kept] = below + (m - len(kept))
    return all_level, all_below



def _tie_breaking_ranking(names, lots, why: str) -> np.ndarray:
    """Draw the tie-breaking ranking (logged, with why it was needed); returns each option's position in it."""
    perm, how = lots.permutation(names)
    tbrc = np.empty(len(names), dtype=int)
    tbrc[perm] = np.arange(len(names))
    lots.log.append(f"ranked pairs: {why} by a tie-breaking ranking {how}: " + " > ".join(names[i] for i in perm))
    return tbrc


def _settle_top(ranking, names, lots, tbrc: np.ndarray | None) -> list:
    """Ranked pairs' winners: the top level, or, when several options share it, the first of them in the
    tie-breaking ranking (``tbrc``, drawn now when the margins needed none)."""
    top = ranking[0] if ranking else []
    if len(top) <= 1:
        return list(top)
    if tbrc is None:
        tbrc = _tie_breaking_ranking(names, lots, "unresolved top settled")
    index = {name: i for i, name in enumerate(names)}
    return [min(top, key=lambda name: tbrc[index[name]])]


def _lock(margin: np.ndarray, tbrc: np.ndarray) -> np.ndarray:
    """Ranked pairs' locking among some options (their margins, their places in the tie-breaking ranking):
    reach[a, b], a locked path a -> b."""
    s = len(margin)
    win, lose = np.nonzero(margin > 0)
    margins = margin[win, lose]
    order = np.lexsort((-tbrc[lose], tbrc[win], -margins))
    reach = np.eye(s, dtype=bool)
    for i, j in zip(win[order].tolist(), lose[order].tolist()):
        if reach[j, i] or reach[i, j]:
            continue
        reach[np.ix_(np.flatnonzero(reach[:, i]), np.flatnonzero(reach[j]))] = True
    np.fill_diagonal(reach, False)
    return reach
