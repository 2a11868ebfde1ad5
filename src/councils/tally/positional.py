"""Methods that only add up points: plurality, approval, score (range) and Borda."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from councils.tally.profile import Profile, ProfileError, UNRANKED, _counts
from councils.tally._count import lots_for
from councils.tally.results import Lots, TallyResult
from councils.tally.seeds import seed_from_digest, table_digest


def tally_plurality(profile: Profile, *, seed: int | None = None, tie_order: Sequence[str] | None = None) -> TallyResult:
    """Most first preferences wins. A ballot whose first place is shared splits its vote equally."""
    first = profile.ranks == profile.ranks.min(axis=1, keepdims=True)
    first &= profile.ranks != UNRANKED
    share = first / np.maximum(first.sum(axis=1, keepdims=True), 1)
    totals = profile.counts @ share
    return _by_totals("plurality", profile.options, totals, profile.n_ballots, lots_for(profile, seed, tie_order))


def tally_approval(options: Sequence[str], approvals, counts=None, *, seed: int | None = None,
                   tie_order: Sequence[str] | None = None) -> TallyResult:
    """Most approvals wins. ``approvals``: bool array (ballots x options) or a list of sets of option names."""
    options = tuple(options)
    matrix = _matrix(options, approvals, bool)
    c = _counts(counts, len(matrix))
    lots = Lots(seed, derive=lambda: seed_from_digest(table_digest(options, matrix, c)), order=tie_order)
    return _by_totals("approval", options, c @ matrix, float(c.sum()), lots)


def tally_approval_from_profile(profile: Profile, *, seed: int | None = None,
                                tie_order: Sequence[str] | None = None) -> TallyResult:
    """Reads each ranked ballot as approving every option it ranks (how PrefLib's .soi ballots are used for approval)."""
    return tally_approval(profile.options, profile.ranks != UNRANKED, profile.counts, seed=seed, tie_order=tie_order)


def tally_score(options: Sequence[str], scores, counts=None, *, max_score: float, seed: int | None = None,
                tie_order: Sequence[str] | None = None) -> TallyResult:
    """Highest total score wins. Blank scores (NaN) count as 0, the usual reading of range voting in councils."""
    options = tuple(options)
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(options):
        raise ProfileError(f"scores must have shape (ballots, {len(options)}), got {matrix.shape}")
    matrix = np.nan_to_num(matrix, nan=0.0)
    if matrix.size and (matrix.min() < 0 or matrix.max() > max_score):
        row = int(np.argwhere((matrix < 0) | (matrix > max_score))[0, 0])
        raise ProfileError(f"ballot {row}: scores must lie between 0 and {max_score}")
    c = _counts(counts, len(matrix))
    lots = Lots(seed, derive=lambda: seed_from_digest(table_digest(options, matrix, c, scale=1000)), order=tie_order)
    result = _by_totals("score", options, c @ matrix, float(c.sum()), lots)
    result.extra["max_score"] = max_score
    result.extra["mean"] = {o: float(t) / float(c.sum()) if c.sum() else 0.0 for o, t in result.totals.items()}
    return result


def tally_borda(profile: Profile, *, seed: int | None = None, tie_order: Sequence[str] | None = None) -> TallyResult:
    """Borda count: an option scores one point for every option a ballot ranks below it.

    On complete strict rankings this is the classic n-1, n-2, ..., 0. Unranked
    options are below every ranked one and level with each other, so a truncated
    ballot gives its ranked options the same points as if it had ranked the rest
    last in any order, and the rest nothing (the "pessimistic" Borda).
    """
    pairwise = profile.pairwise()
    result = _by_totals("borda", profile.options, pairwise.sum(axis=1), profile.n_ballots,
                        lots_for(profile, seed, tie_order))
    result.pairwise = pairwise.tolist()
    return result


def _matrix(options, ballots, dtype) -> np.ndarray:
    if isinstance(ballots, np.ndarray):
        if ballots.ndim != 2 or ballots.shape[1] != len(options):
            raise ProfileError(f"ballots must have shape (ballots, {len(options)}), got {ballots.shape}")
        return ballots.astype(dtype)
    index = {o: i for i, o in enumerate(options)}
    matrix = np.zeros((len(ballots), len(options)), dtype=dtype)
    for b, chosen in enumerate(ballots):
        for name in chosen:
            if name not in index:
                raise ProfileError(f"ballot {b}: unknown option {name!r}")
            matrix[b, index[name]] = True
    return matrix


def _by_totals(method, options, totals, ballots, lots: Lots) -> TallyResult:
    totals = np.asarray(totals, dtype=np.float64)
    ranking = [[options[i] for i in np.flatnonzero(totals == v)] for v in sorted(set(totals.tolist()), reverse=True)]
    top = ranking[0] if ranking else []
    if len(top) > 1:
        winners = [top[lots.choose(top, f"{method}: tie for most votes")]]
    else:
        winners = list(top)
    return TallyResult(
        method=method, options=list(options), winners=winners, ranking=ranking,
        totals={o: float(t) for o, t in zip(options, totals)}, ballots=float(ballots),
        seed=lots.seed, lots=lots.log,
    )
