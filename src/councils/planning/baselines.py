"""Two published planning procedures, as baselines for the benchmark.

* `parecon_price_adjustment`: the indicative-price iteration of Albert and
  Hahnel's participatory-economics simulations. Councils answer prices with
  unregularised best responses (a workplace makes its full capacity when its
  product's price covers its cost, a need is asked for in full when its
  priority per hour clears the going rate) and prices move in proportion to
  each product's relative excess demand. Without a proximal term the
  responses jump, so the rounds cycle rather than settle; the repair step
  then makes the last round's plan feasible.
* `harmony`: Cockshott's harmony algorithm (Cockshott 1990, "Application of
  artificial intelligence techniques to economic planning"; Towards a New
  Socialism ch. 13). Each product's net output is scored against its target
  by the harmony function H(x) = x - sqrt(1 + x^2) of the scaled deviation
  x = (net - target) / target, which punishes shortfalls far more than it
  rewards surpluses; each iteration moves labour towards the techniques whose
  output adds most harmony per hour (net of the harmony their inputs take
  away), with a shrinking step, under the labour budget and capacities.

Both return a PlanResult (backend "parecon" / "harmony") measured like ours.
"""
from __future__ import annotations

import time

import numpy as np

from .economy import Economy, dot
from .labour import labour_values
from .optimum import weights
from .repair import repair
from .results import PlanResult, measure


def parecon_price_adjustment(economy: Economy, rounds: int = 300, rate: float = 0.1) -> PlanResult:
    e = economy
    t0 = time.perf_counter()
    w = weights(e)
    p = labour_values(e)
    cap = e.effective_capacity
    hours = e.need_quantity * p[e.need_product]
    rate_h = np.quantile(w / np.maximum(hours, 1e-300), 0.5)  # priority an hour must earn
    x = f = None
    for _ in range(rounds):
        cost = e.inputs.T @ p + e.labour
        x = np.where(p[e.workplace_product] >= cost, cap, 0.0)
        hours = e.need_quantity * p[e.need_product]
        f = (w >= rate_h * hours).astype(float)
        used = e.inputs @ x + e.delivers @ f
        supply = e.makes @ x
        rel = np.clip((used - supply) / np.maximum(np.maximum(used, supply), 1e-12), -1, 1)
        p = p * (1 + rate * rel)
        labour = dot(e.labour, x)
        rate_h *= 1 + rate * np.clip((labour - e.labour_budget) / e.labour_budget, -1, 1)
    seconds = time.perf_counter() - t0
    return _finish(e, "parecon", f, p, w, rounds, seconds)


def harmony(economy: Economy, iterations: int = 300, step: float = 0.2) -> PlanResult:
    e = economy
    t0 = time.perf_counter()
    w = weights(e)
    target = np.maximum(e.demand, 1e-9)
    cap = e.effective_capacity
    x = cap * 0.5
    x *= min(1.0, e.labour_budget / max(dot(e.labour, x), 1e-300))
    for it in range(iterations):
        net = e.makes @ x - e.inputs @ x
        dev = (net - target) / target
        marginal = (1 - dev / np.sqrt(1 + dev * dev)) / target  # dH/d(net)
        gain = (e.net_output_t @ marginal) / np.maximum(e.labour, 1e-12)  # harmony per hour
        spread = np.abs(gain).max() or 1.0
        s = step / (1 + it / 30)
        x = np.clip(x * (1 + s * gain / spread), 0.0, cap)
        labour = dot(e.labour, x)
        if labour > e.labour_budget:
            x *= e.labour_budget / labour
    # the plan's net output is shared among the needs for each product, highest priority first
    net = np.maximum(e.makes @ x - e.inputs @ x, 0.0)
    f = np.zeros(e.n_needs)
    order = np.lexsort((-e.need_priority, e.need_product))
    left = net.copy()
    for k in order:
        give = min(e.need_quantity[k], left[e.need_product[k]])
        f[k] = give / e.need_quantity[k] if e.need_quantity[k] else 1.0
        left[e.need_product[k]] -= give
    seconds = time.perf_counter() - t0
    return _finish(e, "harmony", f, labour_values(e, x), w, iterations, seconds)


def _finish(e, name, f, prices, w, rounds, seconds):
    t0 = time.perf_counter()
    x, f = repair(e, f, prices, w)
    return PlanResult(aim="weighted", backend=name, output=x, fulfilment=f, prices=prices, hour_value=1.0,
                      rounds=rounds, converged=False, measures=measure(e, x, f), procedure_seconds=seconds,
                      repair_seconds=time.perf_counter() - t0, labour_budget=e.labour_budget,
                      _quantity=e.need_quantity)
