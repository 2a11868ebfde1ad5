"""Tally benchmark: raw ballots to result, ours against the peers, on random partial rankings.

    .venv/bin/python bench/tally.py [--sizes 10000 100000 1000000] [--cap 60]
    .venv/bin/python bench/tally.py --whole-process [--ballots 1000000] [--cap 60] [--repeat 3]
    .venv/bin/python bench/tally.py --many [--ballots 1000] [--cap 120] [--repeat 3]

The third form times whole processes on a file of 10,000 alternatives (see ``write_many``): each of
1,000 ballots ranks 10 alternatives drawn at random, as a long list of candidates gets them; every
ranked method that promises 10,000 alternatives in seconds (docs/voting-methods.md) is run on it.

The second form times whole processes, start to exit, on one PrefLib .soc file (see
``write_soc``): `councils tally FILE --method M --json` against small peer scripts
that read the same file with numpy and count with svvamp, pref_voting or votekit.

Ballots are drawn from a Plackett-Luce model over 10 options (so some rankings
are popular and many are rare) and truncated at a random length, as councils'
ballots are. Every time runs from raw ballots to result: ours from the int array
of orders (building the profile is timed), each peer from plain Python lists
(building its own profile objects is timed). Ours and a peer under a second are
timed best of three, slower ones once.

Each peer runs in a forked child, stopped after --cap seconds and shown as
"> cap": a lower bound, so the ratio is one too. A peer over the cap at one size
is not run at the larger ones (still "> cap": it has at least as much to read).

Memory: "ours MiB" is the peak that tracemalloc sees during one of our calls (the
raw ballots themselves, 80 MB at 10^6, excluded); the last line gives the whole
process's peak resident size after all of our runs and before any peer ran.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
import tracemalloc

import numpy as np

from councils.tally import Profile, tally_irv, tally_ranked_pairs, tally_schulze, tally_stv_meek, tally_stv_scottish

M = 10
NAMES = [str(i) for i in range(M)]


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


def ours(method: str, orders: np.ndarray):
    return OURS[method](Profile.from_orders(NAMES, orders))


# ----------------------------------------------------------------- peers
# Each takes the ballots as lists of option indices, best first.

def _pref_voting(method):
    from pref_voting import margin_based_methods as mb, proportional_methods as pm, voting_methods as vm
    from pref_voting.profiles_with_ties import ProfileWithTies

    fn = {"irv": vm.instant_runoff, "schulze": mb.beat_path, "ranked pairs": mb.ranked_pairs,
          "scottish stv (3)": lambda q: pm.stv_scottish(q, num_seats=3),
          "meek stv (3)": lambda q: pm.stv_meek(q, num_seats=3)}[method]

    def run(lists):
        q = ProfileWithTies([{c: r for r, c in enumerate(b)} for b in lists], candidates=list(range(M)))
        q.use_extended_strict_preference()
        return fn(q)
    return run


def _svvamp(method):
    import svvamp

    def run(lists):
        # svvamp wants every voter's full strict order: unranked options go last in index order.
        full = [b + [c for c in range(M) if c not in b] for b in lists]
        pop = svvamp.Profile(preferences_rk=np.array(full))
        return (svvamp.RuleIRV() if method == "irv" else svvamp.RuleSchulze())(pop).w_
    return run


def _pyrankvote(method):
    import pyrankvote

    def run(lists):
        cands = [pyrankvote.Candidate(n) for n in NAMES]
        ballots = [pyrankvote.Ballot(ranked_candidates=[cands[c] for c in b]) for b in lists]
        if method == "irv":
            return pyrankvote.instant_runoff_voting(cands, ballots)
        return pyrankvote.single_transferable_vote(cands, ballots, number_of_seats=3)
    return run


def _stvpoll(method):
    from collections import Counter

    from stvpoll.scottish_stv import calculate_scottish_stv

    def run(lists):
        grouped = list(Counter(tuple(NAMES[c] for c in b) for b in lists).items())
        return calculate_scottish_stv(tuple(NAMES), grouped, 3, random_shuffle=False)
    return run


def _votekit(method):
    from collections import Counter

    from votekit import RankBallot, RankProfile
    from votekit.elections import FastSTV

    def run(lists):
        # votekit's FastSTV: fractional (Gregory) transfers with a Droop quota, the closest of its rules to ours.
        grouped = Counter(tuple(b) for b in lists)
        ballots = [RankBallot(ranking=tuple(frozenset({NAMES[c]}) for c in order), weight=count)
                   for order, count in grouped.items() if order]
        return FastSTV(RankProfile(ballots=ballots, candidates=tuple(NAMES)), n_seats=3).get_elected()
    return run


PEERS = {  # method -> [(peer, factory)]
    "irv": [("pref_voting", _pref_voting), ("svvamp", _svvamp), ("pyrankvote", _pyrankvote)],
    "schulze": [("pref_voting", _pref_voting), ("svvamp", _svvamp)],
    "ranked pairs": [("pref_voting", _pref_voting)],
    "scottish stv (3)": [("pref_voting", _pref_voting), ("pyrankvote", _pyrankvote), ("stvpoll", _stvpoll),
                         ("votekit", _votekit)],
    "meek stv (3)": [("pref_voting", _pref_voting)],
}


# ----------------------------------------------------------------- timing

def best_time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
        if best > 1.0:
            break
    return best


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


_LISTS: list | None = None  # the current size's ballots as lists, inherited by forked children


def _child(conn, run):
    try:
        conn.send(("ok", best_time(lambda: run(_LISTS))))
    except Exception as exc:  # a peer failing is a result to show, not a crash of the bench
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


def time_peer(run, cap: float):
    """("ok", seconds) | ("cap", None) | ("error", why), the peer run in a forked child."""
    parent, child = mp.get_context("fork").Pipe(duplex=False)
    proc = mp.get_context("fork").Process(target=_child, args=(child, run))
    proc.start()
    child.close()
    if parent.poll(cap):
        answer = parent.recv()
        proc.join()
        return answer
    proc.kill()
    proc.join()
    return ("cap", None)


# ----------------------------------------------------------------- whole processes

def write_soc(path, n: int = 1_000_000, m: int = 10, seed: int = 0) -> int:
    """A PrefLib .soc file of ``n`` complete rankings of ``m`` options drawn uniformly (impartial culture).

    At 10^6 ballots over 10 options about 870,000 rankings are distinct (21 MB): the
    file is as large as such a count's file gets, so the reader's speed shows. Lines
    are in PrefLib's order (most frequent first). Returns the number of distinct rankings.
    """
    rng = np.random.default_rng(seed)
    orders = np.argsort(rng.random((n, m)), axis=1)
    keys = orders @ (m ** np.arange(m - 1, -1, -1))
    keys, first, counts = np.unique(keys, return_index=True, return_counts=True)
    rows = orders[first] + 1
    order = np.lexsort((keys, -counts))
    head = ["# FILE NAME: impartial.soc", "# TITLE: impartial culture", "# DATA TYPE: soc",
            f"# NUMBER ALTERNATIVES: {m}", f"# NUMBER VOTERS: {n}", f"# NUMBER UNIQUE ORDERS: {len(keys)}"]
    head += [f"# ALTERNATIVE NAME {i}: Option {i}" for i in range(1, m + 1)]
    body = [f"{c}: " + ",".join(map(str, r)) for c, r in zip(counts[order].tolist(), rows[order].tolist())]
    with open(path, "w") as fh:
        fh.write("\n".join(head + body) + "\n")
    return len(keys)


# Each peer is a small script, run as its own process: it reads the file with numpy (as a
# user of the library would) and counts. {path} is the file.
_PEER_READ = """
import re, sys, numpy as np
text = open({path!r}).read()
m = int(re.search(r"# NUMBER ALTERNATIVES: (\\d+)", text).group(1))
body = "\\n".join(line for line in text.splitlines() if line and not line.startswith("#"))
table = np.array(re.split(r"[:,\\s]+", body.strip()), dtype=np.int64).reshape(-1, m + 1)
counts, orders = table[:, 0], table[:, 1:] - 1
"""
_PEER_COUNT = {
    ("svvamp", "irv"): "import svvamp\nprint(svvamp.RuleIRV()(svvamp.Profile(preferences_rk=np.repeat(orders, counts, axis=0))).w_)",
    ("svvamp", "schulze"): "import svvamp\nprint(svvamp.RuleSchulze()(svvamp.Profile(preferences_rk=np.repeat(orders, counts, axis=0))).w_)",
    ("pref_voting", "irv"): "from pref_voting.profiles import Profile\nfrom pref_voting.voting_methods import instant_runoff\n"
                            "print(instant_runoff(Profile(orders.tolist(), rcounts=counts.tolist())))",
    ("pref_voting", "schulze"): "from pref_voting.profiles import Profile\nfrom pref_voting.margin_based_methods import beat_path\n"
                                "print(beat_path(Profile(orders.tolist(), rcounts=counts.tolist())))",
    ("pref_voting", "stv-scottish"): "from pref_voting.profiles import Profile\nfrom pref_voting.proportional_methods import stv_scottish\n"
                                     "print(stv_scottish(Profile(orders.tolist(), rcounts=counts.tolist()), num_seats=3))",
    ("pref_voting", "stv-meek"): "from pref_voting.profiles import Profile\nfrom pref_voting.proportional_methods import stv_meek\n"
                                 "print(stv_meek(Profile(orders.tolist(), rcounts=counts.tolist()), num_seats=3))",
    ("votekit", "stv-scottish"): "from votekit import RankBallot, RankProfile\nfrom votekit.elections import FastSTV\n"
                                 "names = [str(i) for i in range(m)]\n"
                                 "ballots = [RankBallot(ranking=tuple(frozenset({{names[c]}}) for c in row), weight=int(w))"
                                 " for row, w in zip(orders.tolist(), counts.tolist())]\n"
                                 "print(FastSTV(RankProfile(ballots=ballots, candidates=tuple(names)), n_seats=3).get_elected())",
}
WHOLE_METHODS = ["irv", "schulze", "stv-scottish", "stv-meek"]


_CPU: list[float] = []  # CPU seconds (user + system) of the last process _run ran


def _run(command: list[str], cap: float) -> tuple[str, float | None, str]:
    """("ok", seconds, "") | ("cap", None, "") | ("error", None, why): one process, start to exit.

    Wall time is what a user waits; on a shared machine it includes waiting for a core,
    so the process's own CPU time (user + system) is kept in _CPU beside it.
    """
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return "cap", None, ""
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _CPU[:] = [after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime]
    if done.returncode != 0:
        return "error", None, (done.stderr.strip().splitlines() or ["exit " + str(done.returncode)])[-1][:80]
    return "ok", elapsed, ""


def whole_process(args) -> None:
    import os
    import platform
    import sys
    import tempfile
    from pathlib import Path

    from councils.tally import RANKED_METHODS
    from councils.tally.formats import read_preflib

    folder = Path(tempfile.mkdtemp(prefix="councils-bench-"))
    path = Path(args.file) if args.file else folder / "impartial.soc"
    if not args.file:
        distinct = write_soc(path, n=args.ballots)
    else:
        distinct = len(read_preflib(path).counts)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path} ({size_mb:.1f} MB, {args.ballots:,} ballots, {distinct:,} distinct rankings)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
          f"Python {platform.python_version()}")

    # In-process figures: reading the file, then each count, best of --repeat.
    read_s = best_time(lambda: read_preflib(path), args.repeat)
    profile = read_preflib(path)
    inner = {}
    for method in WHOLE_METHODS:
        fn = RANKED_METHODS[method]
        run = (lambda f=fn: f(profile, 3, seed=0)) if method.startswith("stv") else (lambda f=fn: f(profile, seed=0))
        inner[method] = best_time(run, args.repeat)
    import_s = min(_run([sys.executable, "-c", "import councils.cli, councils.commands.tally"], 60)[1] or 0
                   for _ in range(args.repeat))

    print(f"{'method':<14} {'ours whole s':>12} {'ours cpu s':>10} {'read s':>7} {'count s':>8}  {'peer':<12} "
          f"{'peer whole s':>12} {'peer cpu s':>10} {'peer/ours':>9}")
    for method in WHOLE_METHODS:
        command = [sys.executable, "-m", "councils.cli", "tally", str(path), "--method", method, "--json"]
        if method.startswith("stv"):
            command += ["--seats", "3"]
        times, cpus = [], []
        for _ in range(args.repeat):
            times.append(_run(command, args.cap))
            cpus.append(_CPU[0] if times[-1][0] == "ok" else float("nan"))
        ours = min(t for status, t, _ in times if status == "ok") if all(s == "ok" for s, _, _ in times) else None
        ours_cpu = min(cpus)
        head = (f"{method:<14} {ours if ours is None else format(ours, '12.2f'):>12} {ours_cpu:10.2f} {read_s:7.2f} "
                f"{inner[method]:8.2f}  ")
        peers = [peer for peer, m in _PEER_COUNT if m == method]
        for peer in peers:
            script = _PEER_READ.format(path=str(path)) + _PEER_COUNT[peer, method].format(path=str(path))
            status, t, why = _run([sys.executable, "-c", script], args.cap)
            if status == "ok":
                cell, ratio = f"{t:12.2f} {_CPU[0]:10.2f}", f"{t / ours:9.1f}" if ours else ""
            elif status == "cap":
                cell = f"{'> ' + format(args.cap, 'g'):>12} {'':>10}"
                ratio = f"{'> ' + format(args.cap / ours, '.0f'):>9}" if ours else ""
            else:
                cell, ratio = f"{'error':>12} {'':>10}", f" {why}"
            print(f"{head}{peer:<12} {cell} {ratio}", flush=True)
    print(f"start-up (python -c 'import councils.cli, councils.commands.tally'): {import_s:.2f} s; "
          f"Django imported by `councils tally`: {_imports_django(path)}")


MANY = 10_000
MANY_METHODS = ["irv", "schulze", "ranked-pairs", "copeland", "stv-scottish", "stv-meek"]


def write_many(path, n: int = 1_000, m: int = MANY, length: int = 10, seed: int = 1) -> None:
    """A PrefLib .soi file: ``n`` ballots each ranking ``length`` of ``m`` alternatives drawn uniformly."""
    rng = np.random.default_rng(seed)
    lines = ["# DATA TYPE: soi", f"# NUMBER ALTERNATIVES: {m}", f"# NUMBER VOTERS: {n}"]
    lines += ["1: " + ",".join(str(x + 1) for x in rng.choice(m, length, replace=False)) for _ in range(n)]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def many_alternatives(args) -> None:
    """Whole processes, `councils tally FILE --method M --json`, on 10,000 alternatives, best of --repeat."""
    import os
    import sys
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="councils-bench-")) / "many.soi"
    ballots = args.ballots if args.ballots != 1_000_000 else 1_000
    write_many(path, n=ballots)
    print(f"file: {path} ({ballots:,} ballots, each ranking 10 of {MANY:,} alternatives); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'method':<14} {'whole s':>8} {'cpu s':>7}")
    for method in MANY_METHODS:
        command = [sys.executable, "-m", "councils.cli", "tally", str(path), "--method", method, "--json"]
        if method.startswith("stv"):
            command += ["--seats", "3"]
        best, cpu, why = None, float("nan"), ""
        for _ in range(args.repeat):
            status, t, why = _run(command, args.cap)
            if status != "ok":
                why = why or f"> {args.cap:g} s"
                best = None
                break
            if best is None or t < best:
                best, cpu = t, _CPU[0]
        print(f"{method:<14} {format(best, '8.2f') if best is not None else why:>8} {cpu:7.2f}", flush=True)


def _imports_django(path) -> bool:
    import subprocess
    import sys

    probe = ("import sys, runpy; sys.argv = ['councils', 'tally', %r, '--method', 'irv', '--json'];\n"
             "import councils.cli\ntry:\n    councils.cli.main(sys.argv[1:])\nfinally:\n"
             "    sys.stderr.write(str('django' in sys.modules))") % str(path)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return done.stderr.strip().endswith("True")


def main() -> None:
    global _LISTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--cap", type=float, default=60.0, help="seconds a peer may take at one size")
    parser.add_argument("--whole-process", action="store_true", help="time whole processes on one PrefLib file")
    parser.add_argument("--ballots", type=int, default=1_000_000, help="ballots in the generated file (--whole-process)")
    parser.add_argument("--file", help="a .soc file to use instead of the generated one (--whole-process)")
    parser.add_argument("--repeat", type=int, default=3, help="our whole processes: best of this many (--whole-process)")
    parser.add_argument("--many", action="store_true", help="time whole processes on 10,000 alternatives")
    args = parser.parse_args()
    if args.many:
        many_alternatives(args)
        return
    if args.whole_process:
        whole_process(args)
        return
    sizes = sorted(args.sizes)
    started = time.perf_counter()

    # Ours first, at every size, so that the process's peak memory is ours alone.
    mine: dict[tuple[int, str], tuple[float, float]] = {}
    distinct: dict[int, int] = {}
    for n in sizes:
        orders = raw_ballots(n)
        distinct[n] = len(Profile.from_orders(NAMES, orders).counts)
        for method in OURS:
            t = best_time(lambda: ours(method, orders))
            mine[n, method] = (t, peak_mib(lambda: ours(method, orders)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # Import every peer and run it once on a few ballots here, so that the forked
    # children inherit warm imports and compiled code and the cap times the count.
    runners: dict[tuple[str, str], object] = {}
    tiny = [row[: row.index(-1)] if -1 in row else row for row in raw_ballots(50, seed=1).tolist()]
    for method, peers in PEERS.items():
        for peer, factory in peers:
            try:
                runners[peer, method] = factory(method)
                runners[peer, method](tiny)
            except ImportError:
                runners.pop((peer, method), None)

    print(f"{'ballots':>9} {'distinct':>9} {'method':<17} {'ours s':>8} {'ours MiB':>9}  "
          f"{'peer':<12} {'peer s':>9} {'peer/ours':>10}")
    over_cap: set[tuple[str, str]] = set()
    for n in sizes:
        orders = raw_ballots(n)
        _LISTS = [row[: row.index(-1)] if -1 in row else row for row in orders.tolist()]
        for method in OURS:
            t_ours, mib = mine[n, method]
            head = f"{n:>9} {distinct[n]:>9} {method:<17} {t_ours:8.3f} {mib:9.0f}  "
            for peer, _ in PEERS[method]:
                if (peer, method) not in runners:
                    status, t = "missing", None
                elif (peer, method) in over_cap:
                    status, t = "cap", None
                else:
                    status, t = time_peer(runners[peer, method], args.cap)
                if status == "ok":
                    peer_s, ratio = f"{t:9.3f}", f"{t / t_ours:10.1f}"
                elif status == "cap":
                    over_cap.add((peer, method))
                    peer_s, ratio = f"{'> ' + format(args.cap, 'g'):>9}", f"{'> ' + format(args.cap / t_ours, '.0f'):>10}"
                else:
                    peer_s, ratio = f"{status:>9}", f"{'':>10}"
                print(f"{head}{peer:<12} {peer_s} {ratio}", flush=True)
        _LISTS = None
    print(f"peak resident memory of our runs (all sizes, raw ballots and interpreter included): {rss:.0f} MiB")
    print(f"whole bench: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
