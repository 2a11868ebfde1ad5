"""Planning benchmark: our procedure (numpy, Dask), parecon price adjustment, Cockshott's harmony, HiGHS.

    .venv/bin/python bench/planning.py                      # medium, large, very-large
    .venv/bin/python bench/planning.py --sizes medium --no-dask

Prints, per economy and method: time, rounds, weighted fulfilment, gap to the
HiGHS-IPM optimum, largest imbalance after repair, and HiGHS time / our time.
"""
from __future__ import annotations

import argparse
import resource
import time

from councils.planning import optimum, plan, synthetic_economy
from councils.planning.baselines import harmony, parecon_price_adjustment


def row(size, method, seconds, rounds, result, opt, ours_seconds=None):
    gap = (opt.objective - result.objective) / opt.objective if result is not None else 0.0
    fulfil = result.objective if result is not None else opt.objective
    imb = result.measures.largest_imbalance if result is not None else 0.0
    ratio = f"{opt.seconds / seconds:6.2f}" if result is not None else "      "
    print(f"| {size:<10} | {method:<18} | {seconds:8.2f} | {rounds:>6} | {fulfil:8.4f} | {100 * gap:7.3f} % "
          f"| {imb:9.1e} | {ratio} |", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["medium", "large", "very-large"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)
    print("| economy    | method             | time (s) | rounds | fulfil.  | gap       | imbalance | HiGHS/t |")
    print("|------------|--------------------|----------|--------|----------|-----------|-----------|---------|")
    for size in args.sizes:
        e = synthetic_economy(size, args.seed)
        opt = optimum(e, "weighted", method="highs-ipm")
        t = time.perf_counter()
        ours = plan(e, "weighted")
        row(size, "ours (numpy)", time.perf_counter() - t, ours.rounds, ours, opt)
        if not args.no_dask:
            t = time.perf_counter()
            d = plan(e, "weighted", backend="dask")
            row(size, "ours (dask, local)", time.perf_counter() - t, d.rounds, d, opt)
        t = time.perf_counter()
        p = parecon_price_adjustment(e)
        row(size, "parecon prices", time.perf_counter() - t, p.rounds, p, opt)
        t = time.perf_counter()
        h = harmony(e)
        row(size, "Cockshott harmony", time.perf_counter() - t, h.rounds, h, opt)
        row(size, "HiGHS-IPM", opt.seconds, 1, None, opt)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\npeak memory of the process: {peak:.2f} GB")


if __name__ == "__main__":
    main()
