"""Methods built on the pairwise matrix: Condorcet winner, Schulze, ranked pairs, Copeland.

All of them read one matrix d[i, j] (weight of ballots ranking i above j), which
numpy builds from the distinct ballots in a single pass; after that the cost
depends only on the number of options.
"""

from __future__ import annotations

import numpy as np

from councils.tally.profile import Profile, ProfileError
from typing import Sequence

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
    _check_size(profile, "Schulze")
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
    _check_size(profile, "ranked pairs")
    d = profile.pairwise()
    names = profile.options
    m = len(names)
    margin = d - d.T
    lots = lots_for(profile, seed, tie_order)
    tbrc = np.arange(m)  # position of each option in the tie-breaking ranking
    win, lose = np.nonzero(margin > 0)
    margins = margin[win, lose]
    tie_in_margins = len(np.unique(margins)) != len(margins)
    if tie_in_margins:
        perm, how = lots.permutation(names)
        tbrc = np.empty(m, dtype=int)
        tbrc[perm] = np.arange(m)
        lots.log.append(f"ranked pairs: equal margins ordered by a tie-breaking ranking {how}: "
                        + " > ".join(names[i] for i in perm))
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
    top = ranking[0] if ranking else []
    if len(top) > 1:
        if not tie_in_margins:
            perm, how = lots.permutation(names)
            tbrc = np.empty(m, dtype=int)
            tbrc[perm] = np.arange(m)
            lots.log.append(f"ranked pairs: unresolved top settled by a tie-breaking ranking {how}: "
                            + " > ".join(names[i] for i in perm))
        winners = [min(top, key=lambda n: tbrc[names.index(n)])]
    else:
        winners = list(top)
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


# Schulze's widest paths and ranked pairs' locking take time growing as the cube of the options:
# a count of this many options takes a few seconds; more are refused rather than left running.
MAX_CUBIC_OPTIONS = 1_000


def _check_size(profile: Profile, method: str) -> None:
    if profile.n_options > MAX_CUBIC_OPTIONS:
        raise ProfileError(f"{method} counts up to {MAX_CUBIC_OPTIONS:,} options (its work grows as the cube of "
                           f"their number); this count has {profile.n_options:,}: use IRV, STV or Copeland")


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
