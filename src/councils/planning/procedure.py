"""The participatory procedure: rounds of indicative prices and council proposals.

Each round the facilitation step publishes a `PriceSignal` (indicative prices
in labour hours, the value of an hour, and for max-min the common fulfilment
level every need asks for); every council answers with its own proposal, computed by its
declared rule from the signal and its own data only, or typed by hand; the
facilitation step sees only the aggregate of the proposals (each product's
excess demand, labour used, fulfilment) and moves the prices. The default
rules are proximal best responses, which make the procedure a projected
gradient method on a smoothed dual of the planning LP (docs/planning.md).

    state = start(economy, aim="weighted")
    while not state.done:
        proposals = default_proposals(state)           # or with hand-typed parts
        report = facilitate(state, proposals)           # publishes the next signal
    result = finish(state)                              # repair + PlanResult
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .economy import Economy, dot
from .labour import labour_values
from .optimum import AIMS, weights

if TYPE_CHECKING:
    from .results import PlanResult

# Stages of the councils' responsiveness band (as a share of a product's labour
# value): wide bands make the early rounds smooth, narrow ones make the plan
# sharp. The procedure moves to the next stage once the current one balances.
BANDS = (0.3, 0.1, 0.03, 0.01)
SLIVER = 0.05


@dataclass
class PriceSignal:
    """What the facilitation step publishes each round."""

    round: int
    value: np.ndarray  # (n,) price of each product in fulfilment units (internal form)
    hour_value: float  # fulfilment units one labour hour is worth
    need_weight: np.ndarray  # (k,) each need's priority, scaled so one hour is worth about one unit
    band: float  # responsiveness band of the default rules this round
    level: float | None = None  # max-min aim: the common fulfilment level every need asks for

    @property
    def prices(self) -> np.ndarray:
        """Indicative prices: social cost per unit in labour hours."""
        return self.value / self.hour_value if self.hour_value > 0 else self.value * 0

    def to_dict(self) -> dict:
        return {"round": self.round, "prices": self.prices.tolist(), "hour_value": self.hour_value,
                "need_weight": self.need_weight.tolist(), "band": self.band, "level": self.level}


@dataclass
class Proposals:
    """All councils' proposals for one round: output per workplace, fulfilment per need."""

    output: np.ndarray  # (m,) units
    fulfilment: np.ndarray  # (k,) share of each need asked for, in [0, 1]
    by_hand: set = field(default_factory=set)  # ("workplace", j) / ("neighbourhood", h)

    def set_workplace(self, economy: Economy, workplace: int, output: float) -> None:
        """A workplace council's hand-typed proposal replaces its rule's."""
        if not 0 <= output <= economy.effective_capacity[workplace] + 1e-9:
            raise ValueError(f"workplaces[{workplace}]: output {output} is outside [0, capacity]")
        self.output[workplace] = output
        self.by_hand.add(("workplace", workplace))

    def set_neighbourhood(self, economy: Economy, council: int, quantities: dict[int, float]) -> None:
        """A neighbourhood council's hand-typed request: quantity wanted per need index."""
        for k, qty in quantities.items():
            if economy.need_council[k] != council:
                raise ValueError(f"needs[{k}] belongs to another council")
            if not 0 <= qty <= economy.need_quantity[k] + 1e-9:
                raise ValueError(f"needs[{k}]: quantity {qty} is outside [0, need]")
            self.fulfilment[k] = qty / economy.need_quantity[k] if economy.need_quantity[k] else 0.0
        self.by_hand.add(("neighbourhood", council))


@dataclass
class RoundReport:
    round: int
    excess_demand: np.ndarray  # (n,) units wanted beyond what is offered (negative: surplus)
    largest_imbalance: float  # largest shortage as a share of the product's demand
    labour_used: float
    weighted_fulfilment: float
    worst_fulfilment: float
    price_movement: float  # relative change of the prices this round
    band: float
    shortage_share: float = 0.0  # hours' worth of all shortages, as a share of the hours used


    def to_dict(self, full: bool = False) -> dict:
        d = {"round": self.round, "largest_imbalance": self.largest_imbalance,
             "labour_used": self.labour_used, "weighted_fulfilment": self.weighted_fulfilment,
             "worst_fulfilment": self.worst_fulfilment, "price_movement": self.price_movement,
             "band": self.band, "shortage_share": self.shortage_share,
             # a stored state may keep only its last step's excess (see councils.economy)
             "total_shortage": None if self.excess_demand is None else float(np.maximum(self.excess_demand, 0).sum())}
        if full:
            d["excess_demand"] = None if self.excess_demand is None else self.excess_demand.tolist()
        return d


@dataclass
class PlanningState:
    """Everything the facilitation step remembers between rounds."""

    economy: Economy
    aim: str
    signal: PriceSignal
    scale: np.ndarray  # (n,) labour values: the unit in which bands are measured
    unit: float  # fulfilment units per hour at labour values (sets the band's size)
    tol: float = 1e-3
    max_rounds: int = 2000
    stage: int = 0
    stage_rounds: int = 0
    history: list = field(default_factory=list)
    last: Proposals | None = None
    done: bool = False
    converged: bool = False
    # memory of the price update (a Barzilai-Borwein step needs the previous round)
    _prev_point: np.ndarray | None = None
    _prev_grad: np.ndarray | None = None
    _step: float = 1.0
    # max-min: the levels known to be makeable (lo) and known to be beyond the capacities (hi)
    _level_lo: float = 0.0
    _level_hi: float = float("inf")
    started: float = field(default_factory=time.perf_counter)

    @property
    def indicative_prices(self) -> np.ndarray:
        """Prices in hours of work. Where labour is not scarce an hour is worth nothing at the margin and prices
        in hours read 0/0: the signal's values are then given at the labour values' rate, so they still say
        which goods are scarce."""
        s = self.signal
        return s.prices if s.hour_value > 1e-3 * self.unit else s.value / self.unit

    def to_dict(self) -> dict:
        """JSON-ready snapshot, so an application can keep the procedure between rounds."""
        def arr(a):
            return None if a is None else np.asarray(a).tolist()
        sig = self.signal
        return {
            "aim": self.aim, "tol": self.tol, "max_rounds": self.max_rounds, "stage": self.stage,
            "stage_rounds": self.stage_rounds, "done": self.done, "converged": self.converged,
            "unit": self.unit, "scale": arr(self.scale), "step": self._step,
            "prev_point": arr(self._prev_point), "prev_grad": arr(self._prev_grad),
            "level_lo": self._level_lo, "level_hi": None if self._level_hi == float("inf") else self._level_hi,
            "signal": {"round": sig.round, "value": arr(sig.value), "hour_value": sig.hour_value,
                       "need_weight": arr(sig.need_weight), "band": sig.band, "level": sig.level},
            "last": None if self.last is None else {"output": arr(self.last.output),
                                                    "fulfilment": arr(self.last.fulfilment)},
            "history": [r.to_dict(full=True) for r in self.history],
        }


def resume(economy: Economy, data: dict) -> PlanningState:
    """The PlanningState a `PlanningState.to_dict()` snapshot was taken from."""
    def arr(a):
        return None if a is None else np.asarray(a, dtype=float)
    sig = data["signal"]
    signal = PriceSignal(sig["round"], arr(sig["value"]), sig["hour_value"], arr(sig["need_weight"]),
                         sig["band"], sig["level"])
    state = PlanningState(economy, data["aim"], signal, arr(data["scale"]), data["unit"], data["tol"],
                          data["max_rounds"], stage=data["stage"], stage_rounds=data["stage_rounds"],
                          done=data["done"], converged=data["converged"])
    state._step = data["step"]
    state._prev_point, state._prev_grad = arr(data["prev_point"]), arr(data["prev_grad"])
    state._level_lo = data.get("level_lo", 0.0)
    state._level_hi = float("inf") if data.get("level_hi") is None else data["level_hi"]
    if data["last"] is not None:
        state.last = Proposals(arr(data["last"]["output"]), arr(data["last"]["fulfilment"]))
    fields = ("largest_imbalance", "labour_used", "weighted_fulfilment", "worst_fulfilment",
              "price_movement", "band", "shortage_share")
    state.history = [RoundReport(h["round"], arr(h["excess_demand"]), **{k: h[k] for k in fields})
                     for h in data["history"]]
    return state


def start(economy: Economy, aim: str = "weighted", *, tol: float = 1e-3, max_rounds: int = 2000,
          warm: "PlanningState | None" = None) -> PlanningState:
    """Open a plan period: the first signal prices each product at its labour value.

    With ``warm`` (the state a previous plan ended in) the procedure starts from
    that plan's prices at its finest band, so a shock is absorbed in few rounds.
    """
    if aim not in AIMS:
        raise ValueError(f"aim must be one of {AIMS}")
    v = labour_values(economy)
    # a product made from no labour at all still needs a band of some width
    v = np.maximum(v, 1e-9 * max(float(v.max(initial=0.0)), 1.0))
    # priorities, scaled so that one hour is worth about one unit
    w = weights(economy) * max(economy.labour_budget, 1e-9)
    hours_all = dot(v, economy.demand)
    unit = float(w.sum() / hours_all) if hours_all > 0 and w.sum() > 0 else 1.0
    if warm is not None:
        signal = PriceSignal(0, warm.signal.value.copy(), warm.signal.hour_value,
                             w.copy(), warm.signal.band, warm.signal.level if aim == warm.aim else None)
        stage = warm.stage
    else:
        signal = PriceSignal(0, unit * v, unit, w.copy(), BANDS[0])
        stage = 0
    if aim == "maxmin" and signal.level is None:
        # start where the budget would stretch if every hour went at labour values
        signal.level = min(1.0, economy.labour_budget / hours_all) if hours_all > 0 else 1.0
    return PlanningState(economy, aim, signal, v, unit, tol, max_rounds, stage=stage)


def default_proposals(state: PlanningState) -> Proposals:
    """Every council's proposal by its default rule (the numpy backend)."""
    from .backends import NumpyBackend
    return NumpyBackend(state.economy).propose(state.signal, state.scale, state.unit)


def default_proposal(state: PlanningState, kind: str, index: int) -> np.ndarray:
    """One council's proposal by its default rule, from the signal and its own data only.

    ``kind`` is "workplace" (returns its output, one value) or "neighbourhood"
    (returns the fulfilment it asks for each of its needs, in need order).
    """
    e, s = state.economy, state.signal
    if kind == "workplace":
        col = e.inputs[:, [index]]
        cost = float((col.T @ s.value)[0]) + s.hour_value * e.labour[index]
        return np.array([workplace_rule(s.value[e.workplace_product[index]] - cost,
                                        e.effective_capacity[index],
                                        s.band * state.unit * state.scale[e.workplace_product[index]])])
    if kind == "neighbourhood":
        ks = np.flatnonzero(e.need_council == index)
        q = e.need_product[ks]
        d = e.need_quantity[ks]
        if s.level is not None:
            return np.full(ks.size, s.level)
        return need_rule(s.need_weight[ks], d, s.value[q], s.band * state.unit * state.scale[q])
    raise ValueError("kind must be 'workplace' or 'neighbourhood'")


def workplace_rule(margin, capacity, band):
    """Proximal best response of a workplace.

    A workplace makes nothing while its product's price does not cover its
    cost at the published prices, its full capacity once the margin reaches
    the band, and in proportion in between: the maximiser of margin * x minus
    a quadratic regret, which is what keeps the rounds from oscillating.
    """
    return capacity * np.clip(margin / band, 0.0, 1.0)


def need_rule(weight, quantity, price, band):
    """Proximal best response of a neighbourhood for its needs: share of each need to ask for."""
    return np.clip((weight - quantity * price) / (quantity * band), 0.0, 1.0)


def facilitate(state: PlanningState, proposals: Proposals) -> RoundReport:
    """One facilitation step: aggregate the proposals, report, publish the next signal.

    Mutates ``state`` (its signal, history and stage) and returns the round's report.
    """
    e, s = state.economy, state.signal
    x, f = proposals.output, proposals.fulfilment
    supply = e.makes @ x
    used = e.inputs @ x + e.delivers @ f
    excess = used - supply
    labour_used = dot(e.labour, x)
    imbalance = _largest_imbalance(excess, used)
    # weighed at labour values, not prices: a shortage of a good priced at zero still counts
    shortage_share = dot(state.scale, np.maximum(excess, 0)) / max(dot(state.scale, used), 1e-300)
    w = weights(e)
    report = RoundReport(s.round, excess, imbalance, labour_used, dot(w, f),
                         float(f.min()) if f.size else 1.0, 0.0, s.band, shortage_share)
    state.last = proposals
    state.history.append(report)

    # Balance is judged on the social cost (hours) of shortages and of surpluses
    # of goods that still carry a price, so that a few crumbs of a rarely used
    # input do not hold up the whole federation; the repair step then makes
    # every single product balance exactly. Hours left idle while they still
    # have a value mean the plan could serve more needs: not yet converged.
    # Weighed at the indicative prices: in hours, or at the labour values' rate where prices in hours read
    # 0/0 (labour not scarce), which would hide every surplus.
    surplus_share = dot(state.indicative_prices, np.maximum(-excess, 0)) / max(dot(state.scale, used), 1e-300)
    slack = (e.labour_budget - labour_used) / max(e.labour_budget, 1e-300)
    beyond_capacity = False
    if s.level is not None:
        # Under max-min every need asks for the common level whatever the prices, so a shortage of a
        # product whose every maker already works at capacity cannot clear: the level is beyond what
        # can be made, and hours left idle then say nothing. The level is bracketed instead.
        free = ~(x >= e.effective_capacity * (1 - 1e-6))
        has_free_maker = np.bincount(e.workplace_product, free.astype(float), minlength=e.n_products) > 0
        beyond_capacity = bool(np.any((excess > state.tol * np.maximum(used, 1e-12)) & ~has_free_maker))
        if beyond_capacity:
            state._level_hi = min(state._level_hi, s.level)
        elif shortage_share <= state.tol:
            state._level_lo = max(state._level_lo, s.level)
    level_pinned = s.level is not None and state._level_hi - state._level_lo <= state.tol
    labour_idle = (s.hour_value > 1e-3 * state.unit and (s.level is None or s.level < 1.0) and not level_pinned)
    off = max(shortage_share, surplus_share, -slack, slack if labour_idle else 0.0)
    balanced = off <= state.tol
    state.stage_rounds += 1
    if balanced and state.stage == len(BANDS) - 1:
        state.done = state.converged = True
        return report
    if s.round + 1 >= state.max_rounds:
        state.done = True
        return report

    point, grad, curv = _dual_point(state, excess, labour_used, f)
    stage_limit = state.max_rounds // (2 * len(BANDS))
    if state.stage < len(BANDS) - 1 and (off <= 10 * state.tol or state.stage_rounds >= stage_limit):
        # narrower band: the curvature changes, so the step memory starts afresh
        state.stage += 1
        state.stage_rounds = 0
        state._prev_point = state._prev_grad = None
        state._step = 1.0
        state._level_hi = float("inf")  # sharper answers may make more: bracket the level afresh
        new_point = point
    else:
        new_point = _price_update(state, point, grad, curv)
    old_prices = s.prices
    n = e.n_products
    level = s.level
    if level is not None:
        # Max-min: labour is the numeraire (its value stays put) and the common
        # level moves by the hours left over, at the labour values' exchange
        # rate, halved so that the workplaces' responses can keep up.
        hours_all = dot(state.scale, e.demand)
        level = level + 0.5 * (e.labour_budget - labour_used) / hours_all
        if beyond_capacity:
            level = 0.5 * (state._level_lo + state._level_hi)
        elif state._level_hi < float("inf"):
            level = min(level, 0.5 * (s.level + state._level_hi))
        level = float(np.clip(level, 0.0, 1.0))
        new_point[n] = s.hour_value
    state.signal = PriceSignal(s.round + 1, new_point[:n], float(new_point[n]), s.need_weight,
                               BANDS[state.stage], level)
    new_prices = state.signal.prices
    report.price_movement = float(np.abs(new_prices - old_prices).sum() / max(np.abs(old_prices).sum(), 1e-300))
    return report


def _largest_imbalance(excess, used):
    short = np.maximum(excess, 0.0)
    rel = short / np.maximum(used, 1e-12)
    return float(rel.max()) if rel.size else 0.0


def _dual_point(state, excess, labour_used, f):
    """The signal as a point of the dual problem, with its gradient and a diagonal curvature."""
    e, s = state.economy, state.signal
    band_w = s.band * state.unit * state.scale[e.workplace_product]
    band_k = s.band * state.unit * state.scale[e.need_product]
    # Curvature of the dual along each price: only councils inside their band
    # respond to a small price change, so only they count (plus a sliver of the
    # rest, so that a price nobody responds to yet still moves).
    cap = e.effective_capacity
    x = state.last.output
    inside = (x > 0) & (x < cap)
    hx = np.where(inside, 1.0, SLIVER) * cap / band_w
    inside_k = (f > 0) & (f < 1)
    hk = np.where(inside_k, 1.0, SLIVER) * e.need_quantity / band_k
    net2 = e._cache.get("net2")
    if net2 is None:
        net2 = e._cache["net2"] = e.net_output.multiply(e.net_output).tocsr()
    cp = net2 @ hx + np.bincount(e.need_product, hk, minlength=e.n_products)
    curv = np.concatenate([cp + 1e-12 * (cp.max() + 1), [dot(e.labour ** 2, hx)]])
    # the dual objective falls when prices rise on goods in excess demand
    slack = 0.0 if s.level is not None else e.labour_budget - labour_used
    grad = [-excess, [slack]]
    point = [s.value, [s.hour_value]]
    return np.concatenate(point), np.concatenate(grad), curv


def _price_update(state, point, grad, curv):
    """Projected, diagonally scaled gradient step with Barzilai-Borwein step lengths."""
    if state._prev_point is not None:
        ds = point - state._prev_point
        dg = grad - state._prev_grad
        den = dot(ds, dg)
        num = dot(ds * curv, ds)
        if den > 0 and num > 0:
            state._step = min(max(num / den, 1e-3), 1e3)
        else:
            state._step = min(state._step * 2, 1e3)
    state._prev_point, state._prev_grad = point, grad
    # prices and the value of an hour cannot go below zero
    return np.maximum(point - state._step * grad / curv, 0.0)


def finish(state: PlanningState, backend_name: str = "numpy") -> "PlanResult":
    """Repair the last round's proposals into a feasible plan and report it."""
    from .repair import repair
    from .results import PlanResult, measure
    e = state.economy
    procedure_seconds = time.perf_counter() - state.started
    t0 = time.perf_counter()
    if state.last is None:
        raise ValueError("no round has been facilitated yet")
    prices = state.signal.prices
    # a need's weight in the repair is what it carried in the procedure
    x, f = repair(e, state.last.fulfilment, prices, state.signal.need_weight, aim=state.aim)
    repair_seconds = time.perf_counter() - t0
    return PlanResult(
        aim=state.aim, backend=backend_name, output=x, fulfilment=f, prices=prices,
        hour_value=state.signal.hour_value, rounds=len(state.history), converged=state.converged,
        measures=measure(e, x, f), history=list(state.history), procedure_seconds=procedure_seconds,
        repair_seconds=repair_seconds, labour_budget=e.labour_budget, state=state,
        _quantity=e.need_quantity,
    )


def plan(economy: Economy, aim: str = "weighted", *, backend: str = "numpy", scheduler: str | None = None,
         partitions: int | None = None, max_rounds: int = 2000, tol: float = 1e-3, warm=None,
         compare: bool = False, on_round=None) -> "PlanResult":
    """Run the procedure with every council on its default rule, then repair.

    ``warm`` is a previous PlanResult (or PlanningState) to start from after a
    shock; ``compare`` also solves the LP optimum to report the gap;
    ``on_round(report)`` is called after each round (progress bars).
    """
    from .backends import make_backend
    warm_state = getattr(warm, "state", warm)
    state = start(economy, aim, tol=tol, max_rounds=max_rounds, warm=warm_state)
    runner = make_backend(backend, economy, scheduler=scheduler, partitions=partitions)
    state.started = time.perf_counter()  # starting a cluster is not part of the procedure
    try:
        while not state.done:
            report = facilitate(state, runner.propose(state.signal, state.scale, state.unit))
            if on_round is not None:
                on_round(report)
    finally:
        runner.close()
    result = finish(state, runner.name)
    if compare:
        from .optimum import optimum
        result.optimum = optimum(economy, aim)
    return result
