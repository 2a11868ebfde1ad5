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
    p.add_argument("--tol", type=float, default=1e-2,
                   help="certified gap at which the procedure stops: 0.01 = at most 1%% below the best plan")
    p.add_argument("--no-optimum", action="store_true", help="skip the HiGHS comparison")
    p.add_argument("--out", help="write the plan as JSON here")
    p.add_argument("--chart", help="write an SVG chart of the certified gap and the shortage by round")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not 0 < args.tol < 1:
        parser.error("--tol must be between 0 and 1 (a share: 0.005 is 0.5%)")
    if args.max_rounds < 1:
        parser.error("--max-rounds must be at least 1")
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
    failure = None
    if not args.no_optimum:
        try:
            result.optimum = optimum(economy, args.aim)
        except (RuntimeError, ValueError) as exc:  # the yardstick, not the plan: say so and go on
            failure = str(exc).removeprefix("HiGHS failed: ")
    print(format_table(economy, result, optimum_failure=failure))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result.to_dict(), fh)
    if args.chart:
        with open(args.chart, "w") as fh:
            fh.write(convergence_svg(result))
    return 0


def certificate_text(result) -> str:
    """The certified gap in words: what "converged" promises, or that it was not reached."""
    gap = 100 * (result.certified_gap or 0.0)
    if result.converged:
        return f"converged: at most {gap:.2f} % below the best possible plan"
    return f"not converged: certified gap {gap:.2f} %"


def format_table(economy, result, optimum_failure: str | None = None) -> str:
    m = result.measures
    s = economy.summary()
    rows = [
        ("economy", f"{s['products']} products, {s['workplaces']} workplaces, {s['councils']} councils"),
        ("aim / backend", f"{result.aim} / {result.backend}"),
        ("rounds", f"{result.rounds} ({'converged' if result.converged else 'round limit reached, not converged'})"),
        ("certified gap", certificate_text(result)),
        ("bound on the best plan", f"{result.bound:.4f}"),
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
    elif optimum_failure is not None:
        rows += [("HiGHS optimum", f"not computed ({optimum_failure}); the certified gap above still holds")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def convergence_svg(result, width: int = 640, height: int = 340) -> str:
    """A dependency-free SVG, log scale: the certified gap (where a plan was repaired) and the shortage share."""
    import math
    hist = result.history
    n = max(len(hist) - 1, 1)
    left, right, top, bottom = 64, 16, 44, 40
    short = [(i, r.shortage_share) for i, r in enumerate(hist)]
    gaps = [(i, r.certified_gap) for i, r in enumerate(hist) if r.certified_gap is not None]
    if result.certified_gap is not None and (not gaps or gaps[-1][0] != len(hist) - 1):
        gaps.append((len(hist) - 1, result.certified_gap))
    values = [v for _, v in short + gaps if v > 0]
    lo = max(math.floor(math.log10(min(values))) if values else -6, -9)
    hi = max(math.ceil(math.log10(max(values))) if values else 0, lo + 1)

    def x(i):
        return left + (width - left - right) * i / n

    def y(v):
        e = min(max(math.log10(v) if v > 0 else lo, lo), hi)
        return top + (height - top - bottom) * (hi - e) / (hi - lo)

    def line(points, colour, dashed=False):
        if not points:
            return ""
        d = " ".join(f"{'M' if j == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for j, (i, v) in enumerate(points))
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        dots = "".join(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>' for i, v in points)
        return f'<path d="{d}" stroke="{colour}" stroke-width="2" fill="none"{dash}/>' + (dots if len(points) <= 60 else "")

    grid = "".join(
        f'<line x1="{left}" x2="{width - right}" y1="{y(10.0 ** e):.1f}" y2="{y(10.0 ** e):.1f}" stroke="#ddd"/>'
        f'<text x="{left - 6}" y="{y(10.0 ** e) + 4:.1f}" font-size="11" text-anchor="end">{100 * 10.0 ** e:g} %</text>'
        for e in range(lo, hi + 1))
    base = height - bottom
    ticks = "".join(f'<text x="{x(i):.1f}" y="{base + 16}" font-size="11" text-anchor="middle">{i}</text>'
                    for i in sorted({0, n // 4, n // 2, 3 * n // 4, n}))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
            f'<title>Certified gap and shortage by round, log scale</title>'
            f'<rect width="100%" height="100%" fill="white"/>{grid}'
            f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#333"/>{ticks}'
            f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" font-size="12" text-anchor="middle">round</text>'
            f'{line(short, "#c0392b")}{line(gaps, "#2471a3", dashed=False)}'
            f'<rect x="{left}" y="8" width="14" height="4" fill="#2471a3"/>'
            f'<text x="{left + 20}" y="14" font-size="12">certified gap (plan at most this far below the best)</text>'
            f'<rect x="{left}" y="24" width="14" height="4" fill="#c0392b"/>'
            f'<text x="{left + 20}" y="30" font-size="12">shortage share (hours short / hours used)</text></svg>')
