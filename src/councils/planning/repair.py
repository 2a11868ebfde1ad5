"""The repair step: turn the last round's proposals into an exactly feasible plan.

Three passes, each a rule any council could check:

1. Requirements. Starting from the deliveries the neighbourhoods asked for,
   each product's requirement (deliveries plus the inputs its users need) is
   given to its workplaces: first up to what each proposed to make, then to
   the spare capacity, cheapest first at the final indicative prices (the
   proposals already chose the techniques; only the balance is new).
   Iterated from final goods down to raw materials, this settles after as
   many sweeps as the technology is deep.
2. Rationing. Where capacity still falls short, the product is shared out
   in proportion among its users and deliveries, and a workplace cut short of
   an input makes correspondingly less; iterated from raw materials up.
3. Labour. If the plan needs more hours than the budget, the deliveries
   with the least priority per labour hour are cut first; if hours are left
   over, unmet needs with the most priority per hour are served; the passes
   above are rerun. Any final excess is removed by scaling the whole plan,
   which keeps every balance.
"""
from __future__ import annotations

import numpy as np

from .economy import Economy, dot


def repair(economy: Economy, fulfilment: np.ndarray, prices: np.ndarray, priority: np.ndarray,
           *, aim: str = "weighted", labour_rounds: int = 8,
           output: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Feasible (output, fulfilment) close to the proposals; ``prices`` in hours per unit.

    ``output`` is the workplaces' proposed outputs: requirements go to them first (step 1).
    """
    e = economy
    f = np.clip(np.asarray(fulfilment, dtype=float), 0.0, 1.0)
    cost = e.inputs.T @ prices + e.labour
    proposed = np.zeros(e.n_workplaces) if output is None else np.clip(output, 0.0, e.effective_capacity)
    order = _fill_order(e, cost, proposed)
    hours_per_need = e.need_quantity * prices[e.need_product]
    value = priority / np.maximum(hours_per_need, 1e-300)
    budget = e.labour_budget
    x = np.zeros(e.n_workplaces)
    best = None
    for _ in range(labour_rounds):
        x, f = _ration_needs(e, x, f, order)
        x, f = _ration(e, x, f)
        used = dot(e.labour, x)
        fx, ff = (x, f) if used <= budget else (x * (budget / used), f * (budget / used))
        score = float(ff.min()) if aim == "maxmin" and ff.size else dot(priority, ff)
        if not _balanced(e, fx, ff):
            score = -1.0  # rationing did not settle (it always does on an acyclic technology): never chosen
        if best is not None and score <= best[0]:
            break  # moving hours between needs made it no better: stop here
        best = (score, fx, ff)
        gap = budget - used
        if abs(gap) <= 1e-6 * budget:
            break
        adjust = _level_deliveries if aim == "maxmin" else _adjust_deliveries
        f_new = adjust(f, value, hours_per_need, gap)
        if np.array_equal(f_new, f):
            break
        f = f_new
    if best[0] < 0:  # no pass balanced: the plan that makes and delivers nothing is feasible
        return np.zeros(e.n_workplaces), np.zeros(e.n_needs)
    return best[1], best[2]


def _balanced(e: Economy, x, f) -> bool:
    supply = e.makes @ x
    demand = e.inputs @ x + e.delivers @ f
    return not np.any(demand > supply * (1 + 1e-12) + 1e-12)


def _fill_order(e: Economy, cost, proposed):
    """Each workplace's capacity as two slices, what it proposed and the rest, in the order they are filled:
    by product, proposed slices before spare ones, cheapest first within each."""
    m = e.n_workplaces
    seg_workplace = np.concatenate([np.arange(m), np.arange(m)])
    seg_size = np.concatenate([proposed, e.effective_capacity - proposed])
    spare = np.repeat([0, 1], m)
    order = np.lexsort((np.concatenate([cost, cost]), spare, e.workplace_product[seg_workplace]))
    return seg_workplace[order], seg_size[order]


def _requirements(e: Economy, f, order, x):
    final = e.delivers @ f
    workplace, cap = order
    prod = e.workplace_product[workplace]
    start = np.searchsorted(prod, np.arange(e.n_products))
    cum = np.cumsum(cap)
    before = cum - cap - np.concatenate([[0.0], cum])[start[prod]]  # capacity of the slices filled earlier
    m = e.n_workplaces
    for _ in range(10 * e.n_products + 10):
        need = final + e.inputs @ x
        new = np.bincount(workplace, np.clip(need[prod] - before, 0.0, cap), minlength=m)
        if np.abs(new - x).max(initial=0.0) <= 1e-13 * max(np.abs(new).max(initial=0.0), 1.0):
            return new
        x = new
    return x


RATION_PASSES = 6
RATION_SWEEPS = 200


def _ration_needs(e: Economy, x, f, order):
    """Ration by the needs: where a product is short, cut every need that draws on it, directly or through
    inputs, by its ratio of supply to demand, and recompute the requirements. A cut made on the needs
    leaves the requirements to settle again, so it works for a cyclic technology too, where cutting the
    workplaces (below) only shrinks the shortage geometrically, round the cycle."""
    a = e.inputs.tocoo()
    for _ in range(RATION_PASSES):
        x = _requirements(e, f, order, x)
        supply = e.makes @ x
        demand = e.inputs @ x + e.delivers @ f
        short = demand > supply * (1 + 1e-12) + 1e-12
        if not short.any():
            break
        ratio = np.ones(e.n_products)
        ratio[short] = supply[short] / demand[short]
        # the lowest ratio upstream of each product, along the inputs of the techniques in use
        used = x[a.col] > 0
        src, dst = a.row[used], e.workplace_product[a.col[used]]
        for _ in range(e.n_products + 1):
            low = ratio.copy()
            np.minimum.at(low, dst, ratio[src])
            if np.array_equal(low, ratio):
                break
            ratio = low
        # a hair more than the ratio: the requirements settle to rounding error, which must not leave a
        # shortage of 1e-13 for the workplace rationing below to chase round a cycle
        f = f * (ratio[e.need_product] * (1 - 1e-9))
    return x, f


def _ration(e: Economy, x, f):
    a = e.inputs
    nonempty = np.diff(a.indptr) > 0
    starts = a.indptr[:-1][nonempty]
    for sweep in range(RATION_SWEEPS):
        supply = e.makes @ x
        demand = a @ x + e.delivers @ f
        short = demand > supply * (1 + 1e-12) + 1e-12
        if not short.any():
            return x, f
        r = np.ones(e.n_products)
        r[short] = supply[short] / demand[short]
        limit = np.ones(e.n_workplaces)
        if starts.size:
            limit[nonempty] = np.minimum.reduceat(r[a.indices], starts)
        x = x * limit
        f = f * r[e.need_product]
    return x, f


def _adjust_deliveries(f, value, hours, gap):
    """Cut (gap < 0) or add (gap > 0) deliveries worth about ``gap`` hours, by priority per hour."""
    f = f.copy()
    if gap < 0:
        order = np.argsort(value)  # least valuable hour first
        held = f[order] * hours[order]
        cum = np.cumsum(held)
        k = np.searchsorted(cum, -gap)
        f[order[:k]] = 0.0
        if k < order.size:
            j = order[k]
            rest = cum[k] + gap  # hours of need j kept
            f[j] = max(rest, 0.0) / hours[j] if hours[j] > 0 else f[j]
    else:
        order = np.argsort(-value)
        room = (1.0 - f[order]) * hours[order]
        cum = np.cumsum(room)
        k = np.searchsorted(cum, gap)
        f[order[:k]] = 1.0
        if k < order.size:
            j = order[k]
            extra = gap - (cum[k - 1] if k else 0.0)
            f[j] = min(1.0, f[j] + extra / hours[j]) if hours[j] > 0 else f[j]
    return f


def _level_deliveries(f, value, hours, gap):
    """Max-min: cut the best-served needs down to a common ceiling, or raise the worst-served to a floor."""
    def moved(level):
        if gap < 0:
            return dot(hours, f - np.minimum(f, level))
        return dot(hours, np.maximum(f, level) - f)
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if (moved(mid) > abs(gap)) == (gap < 0):
            lo = mid
        else:
            hi = mid
    return np.minimum(f, hi) if gap < 0 else np.maximum(f, lo)
