"""Single transferable vote for several seats: Scottish STV and Meek STV.

Both work on distinct ballots, not ballot papers: papers with the same ranking
travel together through every transfer, so they always carry the same value.
"""

from __future__ import annotations

import numpy as np

from typing import Sequence

from councils.tally._count import EXHAUSTED, StageHistory, break_tie, current_choice, lots_for
from councils.tally.profile import Profile, ProfileError
from councils.tally.results import Round, TallyResult

# Scottish rules count in units of 1/100000 of a vote: transfer values are
# truncated to five decimals (rule 48(3)), so integers hold every value exactly.
SCALE = 100_000


class SeatsError(ProfileError):
    """The number of seats does not fit the options on the ballot."""


def _check_seats(profile: Profile, seats: int) -> None:
    if not isinstance(seats, (int, np.integer)) or seats < 1:
        raise SeatsError(f"seats must be a positive whole number, got {seats!r}")
    if seats > profile.n_options:
        raise SeatsError(f"{seats} seats but only {profile.n_options} options stand")


def tally_stv_scottish(profile: Profile, seats: int, *, seed: int | None = None,
                       tie_order: Sequence[str] | None = None) -> TallyResult:
    """Scottish STV, the Scottish Local Government Elections Order 2007 (SSI 2007/42), rules 45-52.

    - quota = floor(valid papers / (seats + 1)) + 1 (rule 46);
    - an option reaching the quota is elected; surpluses are transferred
      largest first (rule 49), every paper of the elected option moving on at
      value truncate(surplus x its value / option's total, 5 decimals) (rule 48);
    - with no surplus left to transfer, the option with fewest votes is
      excluded and its papers move at their current value (rule 50);
    - equal surpluses or equal lowest options: the one highest (lowest) at the
      most recent earlier stage where they differed, else a lot (rules 49, 51);
    - when the continuing options are no more than the seats left, they are
      elected (rule 52).
    """
    _check_seats(profile, seats)
    # orders() refuses tied preferences: the rules know none.
    by_position = np.ascontiguousarray(profile.orders().T)
    counts = profile.counts
    if not np.array_equal(counts, np.round(counts)):
        raise ProfileError("Scottish STV counts ballot papers: ballot weights must be whole numbers")
    c = counts.astype(np.int64)
    names = profile.options
    m = len(names)
    valid = by_position[0] >= 0 if len(by_position) else np.zeros(len(c), dtype=bool)  # ranks anyone at all
    papers = int(c[valid].sum())
    quota = papers // (seats + 1) + 1
    Q = quota * SCALE

    continuing = np.ones(m, dtype=bool)
    at = current_choice(by_position, continuing)
    value = np.full(len(c), SCALE, dtype=np.int64)
    votes = _credited(at, value * c, m)
    lots = lots_for(profile, seed, tie_order)
    elected: list[int] = []
    to_transfer: list[int] = []
    history = StageHistory()
    history.append(votes)
    non_transferable = 0  # units no longer credited to anyone
    rounds = [Round(1, _tallies(votes, names, continuing, elected), note="first preferences")]

    while len(elected) < seats:
        rnd = rounds[-1]
        reached = [int(i) for i in np.flatnonzero(continuing & (votes >= Q))]
        # Several reaching the quota at one stage are declared in order of their votes.
        reached.sort(key=lambda i: -votes[i])
        for i in reached:
            continuing[i] = False
            elected.append(i)
            to_transfer.append(i)
            rnd.elected.append(names[i])
        if len(elected) >= seats:
            break
        if continuing.sum() <= seats - len(elected):
            last = [int(i) for i in np.flatnonzero(continuing)]
            last.sort(key=lambda i: -votes[i])
            for i in last:
                continuing[i] = False
                elected.append(i)
                rnd.elected.append(names[i])
            rnd.note = (rnd.note + "; " if rnd.note else "") + "continuing options fill the seats left (rule 52)"
            break
        surplus = [i for i in to_transfer if votes[i] > Q]
        note = ""
        if surplus:
            top = max(votes[i] for i in surplus)
            tied = [i for i in surplus if votes[i] == top]
            donor = tied[0]
            if len(tied) > 1:
                donor, how = break_tie(tied, history, lowest=False, names=names, lots=lots,
                                       why=f"stage {len(rounds) + 1}: equal surpluses")
                note = f"equal surpluses of {', '.join(names[i] for i in tied)} {how}; "
            to_transfer.remove(donor)
            rows = np.flatnonzero(at == donor)
            total, extra = int(votes[donor]), int(votes[donor]) - Q
            # Per paper, never per parcel: rule 48(3) truncates each paper's value.
            value[rows] = value[rows] * extra // total
            note += f"surplus of {names[donor]} transferred"
            excluded = []
        else:
            alive = np.flatnonzero(continuing)
            zero = alive[votes[alive] == 0]
            allowed = len(alive) - (seats - len(elected))
            if len(zero) > 1 and allowed > 1:
                # Options with no papers (never had any): excluded one by one, each would be lowest in
                # turn, its tie with the others settled by lot (no earlier stage tells them apart), and
                # transfer nothing; together, a count of thousands of options takes few stages. When
                # some of them must stay to fill the seats (rule 52), one draw picks who goes.
                if len(zero) > allowed:
                    perm, how = lots.permutation([names[i] for i in zero])
                    zero = zero[perm][-allowed:]  # the least favoured go
                    lots.log.append(f"stage {len(rounds) + 1}: {allowed} of the options with no votes excluded, "
                                    f"chosen by an order {how}")
                continuing[zero] = False
                donor = int(zero[0])
                rows = np.zeros(0, dtype=np.intp)
                note = f"{len(zero)} options with no votes excluded together"
                excluded = [names[i] for i in zero]
                extra = 0
            else:
                low = votes[alive].min()
                tied = alive[votes[alive] == low].tolist()
                donor = tied[0]
                if len(tied) > 1:
                    donor, how = break_tie(tied, history, lowest=True, names=names, lots=lots,
                                           why=f"stage {len(rounds) + 1}: equal lowest")
                    note = f"equal lowest {', '.join(names[i] for i in tied)} {how}; "
                continuing[donor] = False
                rows = np.flatnonzero(at == donor)
                note += f"{names[donor]} excluded, papers transferred at their current value"
                excluded = [names[donor]]
                extra = int(votes[donor])
        nxt = current_choice(by_position, continuing, rows)
        at[rows] = nxt
        moved = value[rows] * c[rows]
        go = nxt != EXHAUSTED
        received = _credited(nxt[go], moved[go], m)
        lost = extra - int(received.sum())  # non-transferable papers and fractions lost to truncation
        non_transferable += lost
        votes += received
        votes[donor] = Q if donor in elected else 0
        history.append(votes)
        rounds.append(Round(
            len(rounds) + 1, _tallies(votes, names, continuing, elected), excluded=excluded,
            transferred_from=names[donor] if len(excluded) <= 1 else None,
            transfers={names[i]: received[i] / SCALE for i in np.flatnonzero(received)},
            non_transferable=lost / SCALE, exhausted=non_transferable / SCALE, note=note,
        ))

    return TallyResult(
        method="stv_scottish", options=list(names), winners=[names[i] for i in elected], seats=seats,
        ranking=[[names[i]] for i in elected], totals={names[i]: history[0][i] / SCALE for i in range(m)},
        rounds=rounds, quota=float(quota), ballots=float(c.sum()), seed=lots.seed, lots=lots.log,
        extra={"valid_papers": papers},
    )


def _credited(at: np.ndarray, units: np.ndarray, m: int) -> np.ndarray:
    live = at != EXHAUSTED
    # float64 sums are exact below 2**53 units (90 billion votes): ample.
    return np.rint(np.bincount(at[live], weights=units[live], minlength=m)).astype(np.int64)


def _tallies(votes, names, continuing, elected) -> dict[str, float]:
    shown = continuing.copy()
    shown[elected] = True
    at = np.flatnonzero(shown)
    return dict(zip([names[i] for i in at], (votes[at] / SCALE).tolist()))


# ---------------------------------------------------------------- Meek

HOPEFUL, ELECTED, EXCLUDED = 0, 1, 2


def tally_stv_meek(profile: Profile, seats: int, *, seed: int | None = None, tie_order: Sequence[str] | None = None,
                   omega: float = 1e-5, max_iterations: int = 10_000) -> TallyResult:
    """Meek STV after Hill, Wichmann and Woodall, "Algorithm 123" (Computer Journal, 1987).

    Every option has a keep value: 1 while hopeful, 0 once excluded, and for an
    elected option the share of each vote reaching it that it keeps. Each
    ballot gives each option in turn ``keep`` of what is left of it. The quota
    is (votes not exhausted) / (seats + 1); keep values are updated as
    k <- k * quota / votes until the elected options' total surplus is below
    ``omega`` (the algorithm's 0.00001). A hopeful option with more than the
    quota is elected. Otherwise the lowest hopeful is excluded; the iteration
    may stop early once the total surplus is smaller than the gap between the
    two lowest, because no further iteration could change who is lowest.
    Ties for lowest are settled by lot, as in the published algorithm (or by ``tie_order``, when given).
    Arithmetic is float64 rather than the algorithm's nine-decimal fixed point.
    """
    _check_seats(profile, seats)
    orders = profile.orders()
    names = profile.options
    m = len(names)
    counts = profile.counts
    total = float(counts.sum())
    flow = _MeekFlow(np.ascontiguousarray(orders.T), counts, m)
    status = np.zeros(m, dtype=np.int8)
    keep = np.ones(m)
    lots = lots_for(profile, seed, tie_order)
    rounds: list[Round] = []
    elected: list[int] = []
    iterations = 0
    tiny = 1e-12 * max(total, 1.0)
    while len(elected) < seats:
        hopeful = np.flatnonzero(status == HOPEFUL)
        if len(hopeful) <= seats - len(elected):
            if not rounds:
                flow.stage(status)
                votes, excess = flow.votes(keep)
                quota = (total - excess) / (seats + 1)
                rounds.append(Round(1, {names[i]: float(votes[i]) for i in range(m)}, exhausted=float(excess),
                                    note="first preferences"))
            hopeful = sorted(hopeful.tolist(), key=lambda i: -votes[i])
            for i in hopeful:
                status[i] = ELECTED
                elected.append(i)
            rounds[-1].elected.extend(names[i] for i in hopeful)
            rounds[-1].note += "; hopeful options fill the seats left"
            break
        flow.stage(status)
        newly: list[int] = []
        while True:
            iterations += 1
            votes, excess = flow.votes(keep)
            quota = (total - excess) / (seats + 1)
            over = hopeful[votes[hopeful] > quota + tiny]
            if len(over):
                newly = sorted(over.tolist(), key=lambda i: -votes[i])[: seats - len(elected)]
                break
            el = np.flatnonzero(status == ELECTED)
            surplus = float((votes[el] - quota).sum()) if len(el) else 0.0
            if surplus < omega or iterations >= max_iterations:
                break
            low2 = np.sort(votes[hopeful])[:2]
            if len(low2) == 2 and surplus < low2[1] - low2[0]:
                break
            keep[el] = np.minimum(1.0, keep[el] * quota / votes[el])
        standing = np.flatnonzero(status != EXCLUDED)
        rnd = Round(len(rounds) + 1, dict(zip([names[i] for i in standing], votes[standing].tolist())),
                    exhausted=float(excess))
        rnd.note = f"quota {quota:.6f} after {iterations} iterations"
        rounds.append(rnd)
        if newly:
            for i in newly:
                status[i] = ELECTED
                elected.append(i)
                rnd.elected.append(names[i])
                # Start the new keep value at the share it must keep; iteration refines it.
                keep[i] = quota / votes[i]
            continue
        zero = hopeful[votes[hopeful] <= tiny]
        if 1 < len(zero) <= len(hopeful) - (seats - len(elected)):
            # Options no vote reaches: excluded one by one, each would be the lowest in turn and move
            # nothing, so they go together (only when enough others stand to fill the seats).
            status[zero] = EXCLUDED
            keep[zero] = 0.0
            rnd.excluded.extend(names[i] for i in zero)
            rnd.note += f"; {len(zero)} options with no votes excluded together"
            continue
        low = votes[hopeful].min()
        tied = hopeful[votes[hopeful] - low <= tiny].tolist()
        loser = tied[0]
        if len(tied) > 1:
            loser = tied[lots.choose([names[i] for i in tied], f"stage {rnd.number}: equal lowest", least=True)]
            how = "the tie-breaking order" if lots.order is not None else "lot"
            rnd.note += f"; tie for lowest between {', '.join(names[i] for i in tied)} settled by {how}"
        status[loser] = EXCLUDED
        keep[loser] = 0.0
        rnd.excluded.append(names[loser])
    return TallyResult(
        method="stv_meek", options=list(names), winners=[names[i] for i in elected], seats=seats,
        ranking=[[names[i]] for i in elected], totals={names[i]: float(rounds[0].tallies[names[i]]) for i in range(m)}
        if rounds else {}, rounds=rounds, quota=float(quota) if rounds else None, ballots=total,
        seed=lots.seed, lots=lots.log, extra={"keep_values": {names[i]: float(keep[i]) for i in range(m)},
                                               "iterations": iterations, "omega": omega},
    )


class _MeekFlow:
    """Votes for given keep values, over distinct ballots.

    Within a stage (fixed hopeful/elected/excluded), a ballot whose path to its
    first hopeful option crosses no elected option always gives the same votes:
    those are added once per stage, and only the ballots that cross an elected
    option are re-flowed each iteration.
    """

    def __init__(self, by_position: np.ndarray, counts: np.ndarray, m: int):
        self.by_position = by_position  # orders transposed: row k is every ballot's option at position k
        self.counts = counts
        self.m = m

    def stage(self, status: np.ndarray) -> None:
        o = self.by_position
        width, n = o.shape
        code = np.append(status, -1)  # status of each option; option -1 (end of ballot) codes -1
        # Walk the positions, carrying on only the ballots that have not yet reached
        # a hopeful option or their end: ``stop`` is where each one got to (width if
        # never), ``target`` the hopeful option reached (-1 if none), ``crosses``
        # whether it passed an elected option on the way.
        stop = np.full(n, width, dtype=np.intp)
        target = np.full(n, -1, dtype=np.intp)
        crosses = np.zeros(n, dtype=bool)
        look = np.arange(n)
        for k in range(width):
            if not len(look):
                break
            opt = o[k, look]
            st = code[opt]
            halt = (st == HOPEFUL) | (st == -1)
            crosses[look[st == ELECTED]] = True
            done = look[halt]
            stop[done] = k
            target[done] = np.where(st[halt] == HOPEFUL, opt[halt], -1)
            look = look[~halt]
        fixed = ~crosses
        go = fixed & (target >= 0)
        self.fixed_votes = np.bincount(target[go], weights=self.counts[go], minlength=self.m)
        self.fixed_excess = float(self.counts[fixed & ~go].sum())
        rows = np.flatnonzero(crosses)
        depth = stop[rows] + 1  # positions each varying ballot can reach (up to its first hopeful)
        order = np.argsort(-depth, kind="stable")
        rows, depth = rows[order], depth[order]
        self.var_counts = self.counts[rows]
        reach = min(int(depth.max()) if len(depth) else 0, width)
        self.columns = []
        for k in range(reach):
            n_k = int(np.searchsorted(-depth, -(k + 1), side="right"))
            col = o[k, rows[:n_k]].astype(np.intp)
            self.columns.append((n_k, np.where(col >= 0, col, self.m)))

    def votes(self, keep: np.ndarray) -> tuple[np.ndarray, float]:
        ext = np.append(keep, 0.0)  # index m: past the end of a ballot, keeps nothing
        rem = self.var_counts.copy()
        votes = np.zeros(self.m + 1)
        for n, col in self.columns:
            take = rem[:n] * ext[col]
            votes += np.bincount(col, weights=take, minlength=self.m + 1)
            rem[:n] -= take
        return votes[: self.m] + self.fixed_votes, float(rem.sum()) + self.fixed_excess
