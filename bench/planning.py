"""Planning benchmark: our procedure beside HiGHS-IPM on every family of economies, both aims, in one run.

    .venv/bin/python bench/planning.py                                   # every family, medium and large
    .venv/bin/python bench/planning.py --sizes small medium --families capacity-bound mixed --aims maxmin
    .venv/bin/python bench/planning.py --sizes medium --baselines --dask  # also parecon, harmony, Dask

Prints, per family, size, aim and method: the whole call's time, rounds, the aim's value (weighted
fulfilment, or the worst need's fulfilment for max-min), the gap to the HiGHS-IPM optimum, the certified gap
the procedure proved by itself (and whether it converged), the largest imbalance after repair, and HiGHS's
time divided by ours.
"""
from __future__ import annotations

import argparse
import resource
import time

from councils.planning import optimum, plan
from councils.planning.baselines import harmony, parecon_price_adjustment
from councils.planning.synthetic import FAMILIES, family_economy

HEADER = ("| family | size | aim | method | time (s) | rounds | value | gap to HiGHS | certified gap | imbalance "
          "| HiGHS/t |\n|---|---|---|---|---|---|---|---|---|---|---|")


def row(family, size, aim, method, seconds, result, opt):
    if result is None:
        print(f"| {family} | {size} | {aim} | {method} | {seconds:.2f} | | {opt.objective:.4f} | | | | |", flush=True)
        return
    gap = (opt.objective - result.objective) / opt.objective if opt.objective > 0 else 0.0
    if result.certified_gap is None:
        cert = "(none)"
    else:
        cert = f"{100 * result.certified_gap:.2f} %" + ("" if result.converged else " (not converged)")
    print(f"| {family} | {size} | {aim} | {method} | {seconds:.2f} | {result.rounds} | {result.objective:.4f} "
          f"| {100 * gap:.2f} % | {cert} | {result.measures.largest_imbalance:.1e} | {opt.seconds / seconds:.2f} |",
          flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["medium", "large"])
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    ap.add_argument("--aims", nargs="+", default=["weighted", "maxmin"], choices=["weighted", "maxmin"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-rounds", type=int, default=2000)
    ap.add_argument("--tol", type=float, default=1e-2)
    ap.add_argument("--baselines", action="store_true", help="also parecon price adjustment and Cockshott harmony")
    ap.add_argument("--dask", action="store_true", help="also the Dask backend on a local cluster")
    args = ap.parse_args(argv)
    print(HEADER)
    for size in args.sizes:
        for family in args.families:
            e = family_economy(family, size, args.seed)
            label = f"{size} ({e.n_products:,} / {e.n_workplaces:,} / {e.n_councils:,})"
            for aim in args.aims:
                opt = optimum(e, aim, method="highs-ipm")
                t = time.perf_counter()
                ours = plan(e, aim, max_rounds=args.max_rounds, tol=args.tol)
                row(family, label, aim, "ours (numpy)", time.perf_counter() - t, ours, opt)
                if args.dask:
                    t = time.perf_counter()
                    d = plan(e, aim, backend="dask", max_rounds=args.max_rounds, tol=args.tol)
                    row(family, label, aim, "ours (dask, local)", time.perf_counter() - t, d, opt)
                if args.baselines and aim == "weighted":
                    for name, method in (("parecon prices", parecon_price_adjustment), ("Cockshott harmony", harmony)):
                        t = time.perf_counter()
                        b = method(e)
                        row(family, label, aim, name, time.perf_counter() - t, b, opt)
                row(family, label, aim, "HiGHS-IPM", opt.seconds, None, opt)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\npeak memory of the process: {peak:.2f} GB")


if __name__ == "__main__":
    main()
