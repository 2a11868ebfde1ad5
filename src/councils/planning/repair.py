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
import scipy.sparse as sp

from .economy import Economy, _is_acyclic, dot


def repair(economy: Economy, fulfilment: np.ndarray, prices: np.ndarray, priority: np.ndarray,
           *, aim: str = "weighted", labour_rounds: int = 8,
           output: np.ndarray | None = None, stats: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Feasible (output, fulfilment) close to the proposals; ``prices`` in hours per unit.

    ``output`` is the workplaces' proposed outputs: requirements go to them first (step 1). ``stats``, if
    given, receives ``sweeps``: the passes over the input matrix the repair took (its cost, in rounds).
    """
    stats = {} if stats is None else stats
    x, f, order = _repair(economy, fulfilment, prices, priority, aim, labour_rounds, output)
    stats["sweeps"] = order.sweeps
    return x, f


def _repair(economy, fulfilment, prices, priority, aim, labour_rounds, output):
    e = economy
    f = np.clip(np.asarray(fulfilment, dtype=float), 0.0, 1.0)
    cost = e.inputs.T @ prices + e.labour
    proposed = np.zeros(e.n_workplaces) if output is None else np.clip(output, 0.0, e.effective_capacity)
    order = _fill_order(e, cost, proposed)
    hours_per_need = e.need_quantity * prices[e.need_product]
    value = priority / np.maximum(hours_per_need, 1e-300)
    budget = e.labour_budget
    x = np.zeros(e.n_workplaces)
    if aim == "maxmin":
        return (*_common_level(e, order, float(f.max(initial=0.0))), order)
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
        return np.zeros(e.n_workplaces), np.zeros(e.n_needs), order
    return best[1], best[2], order


LEVEL_TRIES = (0.0, 0.005, 0.02, 0.08, 0.3, 1.0)  # cuts below the level asked for, tried in turn
LEVEL_STEPS = 8  # then halvings of the interval between the last level given and the first refused


def _common_level(e: Economy, order, asked: float):
    """Max-min: the highest common level of fulfilment every need can be given. A level can be given if its
    requirements (step 1, with the techniques drawing on a short product held back) leave no product short
    and stay within the hours. Tried: a little above the level the needs asked for, then ever deeper cuts
    below it until one can be given, then halvings between that and the last refused. Every need gets it."""
    top = min(1.0, asked * 1.01 + 1e-9)
    limit = order.limit.copy()
    x_lo = np.zeros(e.n_workplaces)

    def given(t, start):
        order.limit = limit.copy()
        f = np.full(e.n_needs, t)
        x, short, _, _ = _shaded_requirements(e, f, order, start, SHADE_PASSES)
        ok = not short.any() and dot(e.labour, x) <= e.labour_budget and _balanced(e, x, f)
        return ok, x

    lo, hi = 0.0, top
    for cut in LEVEL_TRIES:
        t = top * (1.0 - cut)
        ok, x = given(t, x_lo)
        if ok:
            lo, x_lo = t, x
            break
        hi = t
    if lo < top:
        for _ in range(LEVEL_STEPS):
            t = 0.5 * (lo + hi)
            ok, x = given(t, x_lo)
            if ok:
                lo, x_lo = t, x
            else:
                hi = t
    return x_lo, np.full(e.n_needs, lo)


def _short(supply, demand):
    """The products used beyond what is made, beyond rounding: relative to the use, however small (a plan whose
    every product passes has a largest relative imbalance below 1e-11)."""
    return demand - supply > 1e-12 * np.maximum(demand, 1e-12)


def _balanced(e: Economy, x, f) -> bool:
    supply = e.makes @ x
    demand = e.inputs @ x + e.delivers @ f
    return not _short(supply, demand).any()


def _fill_order(e: Economy, cost, proposed):
    """Each workplace's capacity as two slices, what it proposed and the rest, in the order they are filled:
    by product, proposed slices before spare ones, cheapest first within each."""
    m = e.n_workplaces
    seg_workplace = np.concatenate([np.arange(m), np.arange(m)])
    spare = np.repeat([0, 1], m)
    order = np.lexsort((np.concatenate([cost, cost]), spare, e.workplace_product[seg_workplace]))
    return FillOrder(e, seg_workplace[order], spare[order].astype(bool), proposed, e.effective_capacity.copy())


class FillOrder:
    """The order in which workplaces' slices take a product's requirement, and each workplace's limit.

    A workplace's limit starts at its capacity; where the technique it proposed draws on a product that
    cannot be made in the quantity asked for, the limit is lowered (``shade``) so that its product's
    requirement passes to the other techniques of the same product.
    """

    def __init__(self, e: Economy, workplace, spare, proposed, limit):
        self.workplace, self.spare, self.proposed, self.limit = workplace, spare, proposed, limit
        self.sweeps = 0  # passes over the input matrix so far: the repair's cost, in about a round's work each
        self.prod = e.workplace_product[workplace]
        start = np.searchsorted(self.prod, np.arange(e.n_products))
        rank = np.arange(self.prod.size) - start[self.prod]
        self.ranks = [np.flatnonzero(rank == r) for r in range(1, min(int(rank.max(initial=0)), _RANKS) + 1)]
        self.long = [np.flatnonzero(self.prod == p) for p in np.unique(self.prod[rank > _RANKS])]
        levels = _levels(e)
        if levels is not None:  # acyclic: the slices of each level of the input graph, final goods first
            lev = levels[0][self.prod]
            by = np.argsort(lev, kind="stable")
            cut = np.searchsorted(lev[by], np.arange(len(levels[1]) + 1))
            self.by_level = [by[cut[i]:cut[i + 1]] for i in range(len(levels[1]))]
        else:
            self.by_level = None

    def sizes(self):
        p = np.minimum(self.proposed, self.limit)
        return np.where(self.spare, (self.limit - p)[self.workplace], p[self.workplace])

    def filled_before(self, cap):
        """Capacity of the slices of the same product filled before each slice.

        Summed within each product, rank by rank: a running sum over all products would leave each product's
        share off by the rounding of the whole economy's capacity (1e-11 of a small product where a core
        product's capacity runs to 1e5), a shortage the rationing below would then cut the needs for.
        """
        before = np.zeros(cap.size)
        for at in self.ranks:
            before[at] = before[at - 1] + cap[at - 1]
        for at in self.long:  # a product with very many techniques: its own running sum
            before[at[1:]] = np.cumsum(cap[at[:-1]])
        return before


_RANKS = 64


def _levels(e: Economy):
    """For an acyclic technology, each product's level in the input graph (0: used by no technique; otherwise
    one more than the highest level of the products using it), and the rows of the input matrix by level;
    None for a cyclic technology. Computed once per economy."""
    if "levels" not in e._cache:
        a = e.inputs.tocoo()
        keep = a.data != 0
        src, dst = a.row[keep], e.workplace_product[a.col[keep]]
        level = np.zeros(e.n_products, dtype=np.int64)
        result = None
        for _ in range(e.n_products + 1 if _is_acyclic(e) else 0):
            new = level.copy()
            np.maximum.at(new, src, level[dst] + 1)
            if np.array_equal(new, level):
                rows = e.inputs.tocsr()
                result = (level, [(idx, rows[idx]) for idx in
                                  (np.flatnonzero(level == d) for d in range(int(level.max(initial=0)) + 1))])
                break
            level = new
        e._cache["levels"] = result
    return e._cache["levels"]


def _requirements(e: Economy, f, order, x):
    """Each workplace's output when every product's requirement (deliveries plus its users' inputs) is given
    to its slices in order. Level by level on an acyclic technology (one pass); on a cyclic one, iterated
    until it settles."""
    final = e.delivers @ f
    workplace, cap, prod = order.workplace, order.sizes(), order.prod
    order.sweeps += 1
    before = order.filled_before(cap)
    m = e.n_workplaces
    if order.by_level is not None:
        x = np.zeros(m)
        full = np.zeros(e.n_products)
        for (products, rows), slices in zip(_levels(e)[1], order.by_level):
            full[products] = final[products] + rows @ x
            x += np.bincount(workplace[slices], np.clip(full[prod[slices]] - before[slices], 0.0, cap[slices]),
                             minlength=m)
        return x
    for _ in range(10 * e.n_products + 10):
        order.sweeps += 1
        need = final + e.inputs @ x
        new = np.bincount(workplace, np.clip(need[prod] - before, 0.0, cap), minlength=m)
        # settled when every workplace's output has (a cyclic technology settles geometrically): a test against
        # the largest output would stop while a small product's requirement was still off by rounding
        if np.all(np.abs(new - x) <= 1e-14 * np.abs(new) + 1e-300):
            return new
        x = new
    return x


RATION_PASSES = 6
DIRECT_PASSES = 30
RATION_SWEEPS = 200
# Passes of holding back techniques: in the common level's search, from the capacities each time; in the
# weighted repair the limits stay from pass to pass of the rationing, where more passes hold back too much.
SHADE_PASSES = 12
WEIGHTED_SHADE_PASSES = 2
CYCLIC_SHADE_PASSES = 1


def _shaded_requirements(e: Economy, f, order, x, passes: int | None = None):
    """Requirements, with the techniques that draw on a product in short supply held back.

    Where a product's requirement exceeds what its workplaces can make, each workplace using it is limited to
    its output times the product's ratio of supply to requirement, and its own product's requirement passes to
    that product's other techniques (spare capacity, cheapest first); repeated while that helps. What is still
    short after this has no other technique to turn to, and is rationed by the needs (below).
    """
    a = e.inputs
    users = _users(e)
    # (on a cyclic technology holding a technique back feeds round the cycle into its own inputs' shortage, and
    # the limits would shrink towards nothing: there the needs are rationed at once)
    if passes is None:
        passes = WEIGHTED_SHADE_PASSES if order.by_level is not None else CYCLIC_SHADE_PASSES
    for n in range(passes + 1):
        x = _requirements(e, f, order, x)
        supply = e.makes @ x
        demand = a @ x + e.delivers @ f
        short = _short(supply, demand)
        if not short.any() or n == passes:
            break
        r = supply[short] / demand[short]
        rows = users[np.flatnonzero(short)]  # the workplaces using each short product
        low = np.ones(e.n_workplaces)
        used = rows.data > 0
        np.minimum.at(low, rows.indices[used], np.repeat(r, np.diff(rows.indptr))[used])
        held = (low < 1.0) & (x > 0)
        if not held.any():
            break
        order.limit[held] = np.minimum(order.limit[held], x[held] * low[held])
    return x, short, supply, demand


def _users(e: Economy) -> sp.csr_matrix:
    """(n, m) rows of the input matrix: which workplaces use each product."""
    if "users" not in e._cache:
        e._cache["users"] = sp.csr_matrix(e.inputs)
    return e._cache["users"]


def _ration_needs(e: Economy, x, f, order):
    """Ration by the needs: where a product is short, cut every need that draws on it, directly or through
    inputs, by its ratio of supply to demand, and recompute the requirements. A cut made on the needs
    leaves the requirements to settle again, so it works for a cyclic technology too, where cutting the
    workplaces (below) only shrinks the shortage geometrically, round the cycle."""
    a = e.inputs.tocoo()
    if order.by_level is not None:
        # acyclic: first cut only the needs for the short products themselves, holding back the techniques that
        # draw on a short product (one pass each time), so that a shortage of an intermediate product passes to
        # the other techniques or down to the final goods that need it, not to every need downstream
        for _ in range(DIRECT_PASSES):
            x, short, supply, demand = _shaded_requirements(e, f, order, x, 1)
            if not short.any():
                return x, f
            ratio = np.ones(e.n_products)
            ratio[short] = supply[short] / demand[short]
            f = f * (ratio[e.need_product] * (1 - 1e-9))
    for _ in range(RATION_PASSES):
        x, short, supply, demand = _shaded_requirements(e, f, order, x)
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
        short = _short(supply, demand)
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
