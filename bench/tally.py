"""Tally benchmark: raw ballots to result, ours against the peers, on random partial rankings.

    .venv/bin/python bench/tally.py [--sizes 10000 100000 1000000] [--peer-max 10000]

Ballots are drawn from a Plackett-Luce model over 10 options (so some rankings
are popular and many are rare) and truncated at a random length, as councils'
ballots are. Peers that would take far too long are timed only up to
--peer-max ballots (the table says so); ratios compare equal sizes only.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from councils.tally import Profile, tally_irv, tally_ranked_pairs, tally_schulze, tally_stv_meek, tally_stv_scottish

M = 10


def raw_ballots(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, M + 1) ** 0.8
    gumbel = np.log(weights) - np.log(-np.log(rng.random((n, M))))
    orders = np.argsort(-gumbel, axis=1)
    length = rng.integers(1, M + 1, size=n)
    orders[np.arange(M)[None, :] >= length[:, None]] = -1
    return orders


OURS = {
    "irv": lambda p: tally_irv(p, seed=0),
    "schulze": lambda p: tally_schulze(p, seed=0),
    "ranked pairs": lambda p: tally_ranked_pairs(p, seed=0),
    "scottish stv (3)": lambda p: tally_stv_scottish(p, 3, seed=0),
    "meek stv (3)": lambda p: tally_stv_meek(p, 3, seed=0),
}


def peers(method: str, orders: np.ndarray):
    """(name, callable from raw ballots) for each installed peer of a method."""
    out = []
    names = [str(i) for i in range(M)]
    lists = [[int(x) for x in row if x >= 0] for row in orders]
    try:
        from pref_voting.profiles_with_ties import ProfileWithTies
        from pref_voting import margin_based_methods as mb, voting_methods as vm, proportional_methods as pm

        def pv(fn):
            def run():
                q = ProfileWithTies([{c: r for r, c in enumerate(b)} for b in lists], candidates=list(range(M)))
                q.use_extended_strict_preference()
                return fn(q)
            return run
        table = {"irv": vm.instant_runoff, "schulze": mb.beat_path, "ranked pairs": mb.ranked_pairs,
                 "scottish stv (3)": lambda q: pm.stv_scottish(q, num_seats=3),
                 "meek stv (3)": lambda q: pm.stv_meek(q, num_seats=3)}
        if method != "meek stv (3)" or len(lists) <= 1000:
            # pref_voting's Meek took over five minutes at 10^4 ballots: timed only on small runs.
            out.append(("pref_voting", pv(table[method])))
    except ImportError:
        pass
    if method in ("irv", "schulze"):
        try:
            import svvamp

            def sv():
                # svvamp wants every voter's full strict order: unranked options go last in index order.
                full = [b + [c for c in range(M) if c not in b] for b in lists]
                pop = svvamp.Profile(preferences_rk=np.array(full))
                rule = (svvamp.RuleIRV() if method == "irv" else svvamp.RuleSchulze())(pop)
                return rule.w_
            out.append(("svvamp (completed)", sv))
        except ImportError:
            pass
    if method in ("irv", "scottish stv (3)"):
        try:
            import pyrankvote

            def prv():
                cands = [pyrankvote.Candidate(n) for n in names]
                ballots = [pyrankvote.Ballot(ranked_candidates=[cands[c] for c in b]) for b in lists]
                if method == "irv":
                    return pyrankvote.instant_runoff_voting(cands, ballots)
                return pyrankvote.single_transferable_vote(cands, ballots, number_of_seats=3)
            out.append(("pyrankvote", prv))
        except ImportError:
            pass
    if method == "scottish stv (3)":
        try:
            from collections import Counter
            from stvpoll.scottish_stv import calculate_scottish_stv

            out.append(("stvpoll", lambda: calculate_scottish_stv(
                tuple(names), list(Counter(tuple(names[c] for c in b) for b in lists).items()), 3,
                random_shuffle=False)))
        except ImportError:
            pass
    return out


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--peer-max", type=int, default=10_000, help="largest size peers are timed on")
    args = parser.parse_args()
    print(f"{'ballots':>9} {'distinct':>9} {'method':<18} {'ours s':>8} {'peer':<20} {'peer s':>8} {'peer/ours':>9}")
    for n in args.sizes:
        orders = raw_ballots(n)
        distinct = len(Profile.from_orders([str(i) for i in range(M)], orders).counts)
        for method, ours in OURS.items():
            t_ours = timed(lambda: ours(Profile.from_orders([str(i) for i in range(M)], orders)))
            rows = [("-", None)]
            if n <= args.peer_max:
                rows = [(name, timed(fn)) for name, fn in peers(method, orders)] or rows
            for name, t in rows:
                ratio = f"{t / t_ours:9.1f}" if t else f"{'':>9}"
                peer_t = f"{t:8.3f}" if t else f"{'(>cap)':>8}"
                print(f"{n:>9} {distinct:>9} {method:<18} {t_ours:8.3f} {name:<20} {peer_t} {ratio}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (whole run, peers included): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
