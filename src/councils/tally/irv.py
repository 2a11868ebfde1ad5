"""Instant-runoff voting (single seat)."""

from __future__ import annotations

import numpy as np

from typing import Sequence

from councils.tally._count import EXHAUSTED, StageHistory, break_tie, current_choice, lots_for
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
    history = StageHistory()
    rounds: list[Round] = []
    pending_transfer: tuple[str, dict, float] | None = None
    winner = None
    stops = np.append(continuing, True)  # stops[choice]: the ballot's choice still stands (or it is exhausted)
    while True:
        history.append(votes)
        alive = np.flatnonzero(continuing)
        active = float(votes[alive].sum())
        rnd = Round(
            number=len(rounds) + 1,
            tallies=dict(zip([names[i] for i in alive], votes[alive].tolist())),
            exhausted=total - active,
        )
        if pending_transfer:
            rnd.transferred_from, rnd.transfers, rnd.non_transferable = pending_transfer
        rounds.append(rnd)
        leader = alive[np.argmax(votes[alive])]
        if 2 * votes[leader] > active or len(alive) == 1:
            winner = int(leader)
            rnd.elected.append(names[winner])
            rnd.note = "majority of the ballots still in play" if len(alive) > 1 else "last option standing"
            break
        batch = _bulk_exclusion(votes[alive])
        if batch > 1:
            # Options whose votes together are fewer than the next one's: excluding them one by one
            # would exclude exactly these, whatever the order (none can overtake the next), and leave
            # the same winner; together, a count of many options takes few rounds.
            losers = alive[np.argsort(votes[alive], kind="stable")[:batch]]
            rnd.note = (f"{batch} options excluded together: their votes together are fewer than the next "
                        "option's, so none of them could overtake it")
        else:
            low = votes[alive].min()
            tied = alive[votes[alive] == low]
            if len(tied) > 1:
                loser, how = break_tie(tied, history, lowest=True, names=names, lots=lots,
                                       why=f"round {rnd.number}: tie for fewest votes")
                rnd.note = f"tie for fewest votes between {', '.join(names[i] for i in tied)} {how}"
            else:
                loser = int(tied[0])
            losers = np.array([loser])
        rnd.excluded.extend(names[i] for i in losers)
        continuing[losers] = False
        stops[losers] = False
        rows = np.flatnonzero(~stops[choice])
        nxt = current_choice(by_position, continuing, rows)
        choice[rows] = nxt
        go = nxt != EXHAUSTED
        moved = np.bincount(nxt[go], weights=counts[rows][go], minlength=m)
        votes[losers] = 0.0
        votes += moved
        pending_transfer = (
            ", ".join(names[i] for i in losers),
            {names[i]: float(moved[i]) for i in np.flatnonzero(moved)},
            float(counts[rows][~go].sum()),
        )
    return TallyResult(
        method="irv", options=list(names), winners=[names[winner]],
        ranking=_exclusion_ranking(rounds, names[winner]),
        totals={names[i]: float(history[0][i]) for i in range(m)}, rounds=rounds,
        ballots=total, seed=lots.seed, lots=lots.log,
    )


def _bulk_exclusion(votes: np.ndarray) -> int:
    """How many of the lowest options hold fewer votes together than the next lowest (0 or 1: none to bulk)."""
    if len(votes) < 3:
        return 0
    ascending = np.sort(votes)
    below = np.cumsum(ascending)[:-1] < ascending[1:]
    below[-1] = False  # never all but one: the last round is decided by majority
    found = np.flatnonzero(below)
    return int(found[-1]) + 1 if len(found) else 0


def _exclusion_ranking(rounds, winner) -> list[list[str]]:
    # Winner first, then options in reverse order of exclusion (those excluded together level);
    # those still in the count at the end by their votes.
    rest = [n for n in rounds[-1].tallies if n != winner]
    rest.sort(key=lambda n: -rounds[-1].tallies[n])
    return [[winner]] + [[n] for n in rest] + [list(r.excluded) for r in reversed(rounds) if r.excluded]
