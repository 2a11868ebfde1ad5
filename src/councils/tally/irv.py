"""Instant-runoff voting (single seat)."""

from __future__ import annotations

import numpy as np

from typing import Sequence

from councils.tally._count import EXHAUSTED, break_tie, current_choice, lots_for
from councils.tally.profile import Profile
from councils.tally.results import Round, TallyResult


def tally_irv(profile: Profile, *, seed: int | None = None, tie_order: Sequence[str] | None = None) -> TallyResult:
    """Exclude the option with the fewest votes until one holds a majority of the ballots still in play.

    Ties for last place are settled as the Scottish STV rules settle them: the
    option with fewer votes at the most recent round where the tied options
    differed goes; if they never differed, the given ``tie_order`` (names, most favoured
    first) or else a lot drawn from ``seed`` (by default derived from the ballots, see ``seeds``).
    """
    # orders() refuses ballots with ties: a tied first place has no single current choice.
    by_position = np.ascontiguousarray(profile.orders().T)
    names = profile.options
    m = len(names)
    counts = profile.counts
    continuing = np.ones(m, dtype=bool)
    choice = current_choice(by_position, continuing)
    live = choice != EXHAUSTED
    votes = np.bincount(choice[live], weights=counts[live], minlength=m)
    total = float(counts.sum())
    lots = lots_for(profile, seed, tie_order)
    history: list[np.ndarray] = []
    rounds: list[Round] = []
    pending_transfer: tuple[str, dict, float] | None = None
    winner = None
    while True:
        history.append(votes.copy())
        active = float(votes[continuing].sum())
        rnd = Round(
            number=len(rounds) + 1,
            tallies={names[i]: float(votes[i]) for i in np.flatnonzero(continuing)},
            exhausted=total - active,
        )
        if pending_transfer:
            rnd.transferred_from, rnd.transfers, rnd.non_transferable = pending_transfer
        rounds.append(rnd)
        alive = np.flatnonzero(continuing)
        leader = alive[np.argmax(votes[alive])]
        if 2 * votes[leader] > active or len(alive) == 1:
            winner = int(leader)
            rnd.elected.append(names[winner])
            rnd.note = "majority of the ballots still in play" if len(alive) > 1 else "last option standing"
            break
        low = votes[alive].min()
        tied = [int(i) for i in alive if votes[i] == low]
        if len(tied) > 1:
            loser, how = break_tie(tied, history, lowest=True, names=names, lots=lots,
                                   why=f"round {rnd.number}: tie for fewest votes")
            rnd.note = f"tie for fewest votes between {', '.join(names[i] for i in tied)} {how}"
        else:
            loser = tied[0]
        rnd.excluded.append(names[loser])
        continuing[loser] = False
        rows = np.flatnonzero(choice == loser)
        nxt = current_choice(by_position, continuing, rows)
        choice[rows] = nxt
        go = nxt != EXHAUSTED
        moved = np.bincount(nxt[go], weights=counts[rows][go], minlength=m)
        votes[loser] = 0.0
        votes += moved
        pending_transfer = (
            names[loser],
            {names[i]: float(moved[i]) for i in np.flatnonzero(moved)},
            float(counts[rows][~go].sum()),
        )
    return TallyResult(
        method="irv", options=list(names), winners=[names[winner]],
        ranking=_exclusion_ranking(rounds, names[winner]),
        totals={names[i]: float(history[0][i]) for i in range(m)}, rounds=rounds,
        ballots=total, seed=lots.seed, lots=lots.log,
    )


def _exclusion_ranking(rounds, winner) -> list[list[str]]:
    # Winner first, then options in reverse order of exclusion; those never reached stay level.
    excluded = [name for r in rounds for name in r.excluded]
    rest = [n for n in rounds[-1].tallies if n != winner]
    rest.sort(key=lambda n: -rounds[-1].tallies[n])
    return [[winner]] + [[n] for n in rest] + [[n] for n in reversed(excluded)]
