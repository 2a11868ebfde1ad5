"""Economy benchmark: what a planning round costs the application beyond the engine.

    .venv/bin/python bench/economy.py                        # medium and large economies
    .venv/bin/python bench/economy.py --sizes small medium large very-large

For each synthetic economy it times, in one run:
  engine      the procedure alone (councils.planning: start, default rules, facilitate) to convergence
  app round   what the worker does for a period's round: read the stored economy file, run the same
              procedure, store the state, repair, labour values and the HiGHS yardstick (no database)
  HiGHS       the centralised optimum alone (scipy's HiGHS interior point)
and prints the stored sizes (economy file, state as stored, state with every step's excess),
and the ratios app round / engine and app round / HiGHS.
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "councils.settings_test")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["medium", "large"])
    ap.add_argument("--iterations", type=int, default=3000)
    args = ap.parse_args(argv)
    import django

    django.setup()
    from councils.economy.services import _state_json
    from councils.planning import default_proposals, facilitate, finish, labour_values, optimum, start, synthetic_economy
    from councils.planning.io import economy_from_dict, economy_to_dict

    print("| economy | workplaces | engine s | app round s | HiGHS s | app/engine | app/HiGHS | economy file MB "
          "| state MB (stored) | state MB (every step) | gap |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        economy = synthetic_economy(size, seed=1)
        stored_economy = json.dumps(economy_to_dict(economy))

        t0 = time.perf_counter()
        state = start(economy, "weighted", max_rounds=args.iterations)
        while not state.done:
            facilitate(state, default_proposals(state))
        engine_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        loaded = economy_from_dict(json.loads(stored_economy))
        app_state = start(loaded, "weighted", max_rounds=args.iterations)
        while not app_state.done:
            facilitate(app_state, default_proposals(app_state))
        stored_state = _state_json(app_state)
        result = finish(app_state)
        labour_values(loaded)
        best = optimum(loaded, "weighted")
        app_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        optimum(economy, "weighted")
        highs_s = time.perf_counter() - t0

        full_state = json.dumps(app_state.to_dict())
        gap = (best.objective - result.objective) / best.objective
        print(f"| {size} | {economy.n_workplaces:,} | {engine_s:.2f} | {app_s:.2f} | {highs_s:.2f} | {app_s / engine_s:.1f} "
              f"| {app_s / highs_s:.2f} | {len(stored_economy) / 1e6:.1f} | {len(stored_state) / 1e6:.2f} "
              f"| {len(full_state) / 1e6:.1f} | {100 * gap:.3f} % |", flush=True)


if __name__ == "__main__":
    main()
