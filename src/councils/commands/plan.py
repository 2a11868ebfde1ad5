"""`councils plan`: run the participatory planning procedure on an economy and compare it with HiGHS."""
from __future__ import annotations

import argparse
import json
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="councils plan", description=(
        "Plan production against needs by the participatory procedure, repair the plan to exact "
        "feasibility, and measure it against the HiGHS linear-programming optimum."))
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("economy", nargs="?", help="economy file (.json or .npz, see docs/planning.md)")
    src.add_argument("--synthetic", choices=["tiny", "small", "medium", "large", "very-large"],
                     help="plan a synthetic economy of this size instead")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic economy")
    p.add_argument("--aim", choices=["weighted", "maxmin"], default="weighted")
    p.add_argument("--backend", choices=["numpy", "dask"], default="numpy")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    p.add_argument("--max-rounds", type=int, default=2000)
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--no-optimum", action="store_true", help="skip the HiGHS comparison")
    p.add_argument("--out", help="write the plan as JSON here")
    p.add_argument("--chart", help="write an SVG chart of excess demand and fulfilment by round")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from councils.planning import EconomyError, optimum, plan, synthetic_economy
    from councils.planning.io import load_economy
    try:
        if args.synthetic:
            economy = synthetic_economy(args.synthetic, args.seed)
        else:
            economy = load_economy(args.economy)
    except EconomyError as exc:
        print(f"councils plan: bad economy file {args.economy}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"councils plan: cannot read {args.economy}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    bar = None
    if not args.no_progress:
        from tqdm import tqdm
        bar = tqdm(total=args.max_rounds, desc="planning rounds", unit="round", file=sys.stderr, leave=False)

    def on_round(report):
        if bar is not None:
            bar.update(1)
            bar.set_postfix(shortage=f"{report.shortage_share:.2e}", fulfilment=f"{report.weighted_fulfilment:.3f}", refresh=False)

    result = plan(economy, args.aim, backend=args.backend, scheduler=args.scheduler,
                  max_rounds=args.max_rounds, tol=args.tol, on_round=on_round)
    if bar is not None:
        bar.close()
    if not args.no_optimum:
        result.optimum = optimum(economy, args.aim)
    print(format_table(economy, result))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result.to_dict(), fh)
    if args.chart:
        with open(args.chart, "w") as fh:
            fh.write(convergence_svg(result))
    return 0


def format_table(economy, result) -> str:
    m = result.measures
    s = economy.summary()
    rows = [
        ("economy", f"{s['products']} products, {s['workplaces']} workplaces, {s['councils']} councils"),
        ("aim / backend", f"{result.aim} / {result.backend}"),
        ("rounds", f"{result.rounds} ({'converged' if result.converged else 'round limit reached'})"),
        ("fulfilment, weighted", f"{m.weighted_fulfilment:.4f}"),
        ("fulfilment, worst need", f"{m.worst_fulfilment:.4f}"),
        ("spread across councils", f"{m.council_spread:.4f}"),
        ("largest imbalance", f"{m.largest_imbalance:.2e}"),
        ("labour used", f"{m.labour_used:,.1f} of {result.labour_budget:,.1f} h"),
        ("time: procedure + repair", f"{result.procedure_seconds:.3f} s + {result.repair_seconds:.3f} s"),
    ]
    if result.optimum is not None:
        rows += [("HiGHS optimum", f"{result.optimum.objective:.4f} in {result.optimum.seconds:.3f} s"),
                 ("gap to optimum", f"{100 * result.gap:.3f} %")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def convergence_svg(result, width: int = 640, height: int = 320) -> str:
    """A dependency-free SVG: shortage share (log scale) and weighted fulfilment by round."""
    import math
    hist = result.history
    n = max(len(hist) - 1, 1)
    pad = 40
    short = [max(r.shortage_share, 1e-9) for r in hist]
    lo, hi = math.log10(min(short)), math.log10(max(short)) + 1e-9

    def xy(i, y01):
        return pad + (width - 2 * pad) * i / n, height - pad - (height - 2 * pad) * y01

    def path(vals):
        return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in
                        enumerate(xy(i, v) for i, v in enumerate(vals)))

    s01 = [(math.log10(v) - lo) / (hi - lo) if hi > lo else 0.5 for v in short]
    f01 = [r.weighted_fulfilment for r in hist]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<path d="{path(s01)}" stroke="#c0392b" fill="none"/>'
            f'<path d="{path(f01)}" stroke="#2471a3" fill="none"/>'
            f'<text x="{pad}" y="20" font-size="12">red: shortage share (log, {10**lo:.1e} to {10**hi:.1e}); '
            f'blue: weighted fulfilment (0 to 1); {len(hist)} rounds</text></svg>')
