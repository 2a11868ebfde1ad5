"""The participatory procedure: rounds of indicative prices and council proposals.

Each round the facilitation step publishes a `PriceSignal` (indicative prices, the value of an hour, for
max-min the common fulfilment level every need asks for, and each council's last proposal and
responsiveness); every council answers with its own proposal, computed by its declared rule from the
signal and its own data only, or typed by hand; the facilitation step sees only the aggregate of the
proposals (each product's excess demand, the hours used) and moves the prices.

The default rules are *proximal best responses*: a council moves from its last proposal in the direction
of its margin at the published prices, by its responsiveness, within its capacity. Together with the
facilitation step's price update this is the primal-dual hybrid gradient method of Chambolle and Pock
(2011) on the planning LP, restarted as in PDLP (Applegate et al., 2021, 2023), which converges linearly on
linear programs. Every round also yields a *certificate*: the Lagrangian bound at the published prices
(certificate.py), so "converged" means that the best repaired plan is provably within ``tol`` of the
optimum (docs/planning.md).

    state = start(economy, aim="weighted")
    while not state.done:
        proposals = default_proposals(state)           # or with hand-typed parts
        report = facilitate(state, proposals)           # publishes the next signal
    result = finish(state)                              # repair + PlanResult
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .certificate import certified_gap, maxmin_bound, weighted_bound, workplace_surplus
from .economy import Economy, dot
from .labour import labour_values
from .optimum import AIMS, weights

if TYPE_CHECKING:
    from .results import PlanResult

# Rounds between two looks at the whole (a possible restart and, when the plan may be good enough, a repair
# that yields a certified gap). PDLP looks every 64 iterations; our economies need fewer rounds.
CHECK_EVERY = 32
# Restart rules of PDLP (Applegate et al. 2021, section 3.3): restart when the candidate's error has fallen
# to a fifth of what it was at the last restart, or to four fifths and stopped falling, or when the current
# stretch is longer than 36 % of all rounds so far.
RESTART_SUFFICIENT, RESTART_NECESSARY, RESTART_ARTIFICIAL = 0.2, 0.8, 0.36
RUIZ_SWEEPS = 10
# A check repairs the proposals when they may certify (at most every other check), and at least every
# REPAIR_EVERY checks: a repair costs a few rounds' time.
REPAIR_EVERY = 4


@dataclass
class PriceSignal:
    """What the facilitation step publishes each round."""

    round: int
    value: np.ndarray  # (n,) price of each product in fulfilment units (internal form)
    hour_value: float  # fulfilment units one labour hour is worth
    need_weight: np.ndarray  # (k,) each need's share of the aim (priorities, summing to one)
    level: float | None = None  # max-min aim: the common fulfilment level every need asks for
    anchor_output: np.ndarray | None = None  # (m,) each workplace's proposal to move from (its last one)
    anchor_fulfilment: np.ndarray | None = None  # (k,) each need's share to move from
    step_output: np.ndarray | None = None  # (m,) each workplace's responsiveness (units per unit of margin)
    step_fulfilment: np.ndarray | None = None  # (k,) each need's responsiveness

    @property
    def prices(self) -> np.ndarray:
        """Indicative prices: social cost per unit in labour hours."""
        return self.value / self.hour_value if self.hour_value > 0 else self.value * 0

    def part(self, workplaces, needs) -> "PriceSignal":
        """The signal as a group of councils sees it: all prices, and their own anchors and steps."""
        def cut(a, idx):
            return None if a is None else a[idx]
        return replace(self, need_weight=cut(self.need_weight, needs),
                       anchor_output=cut(self.anchor_output, workplaces),
                       anchor_fulfilment=cut(self.anchor_fulfilment, needs),
                       step_output=cut(self.step_output, workplaces), step_fulfilment=cut(self.step_fulfilment, needs))

    def to_dict(self) -> dict:
        return {"round": self.round, "prices": self.prices.tolist(), "hour_value": self.hour_value,
                "level": self.level}


@dataclass
class Proposals:
    """All councils' proposals for one round: output per workplace, fulfilment per need.

    ``surplus`` is the sum of the councils' best-response surpluses at the published prices (their terms of
    the certificate, certificate.py), reported by the default rules in the same pass; None if not reported.
    """

    output: np.ndarray  # (m,) units
    fulfilment: np.ndarray  # (k,) share of each need asked for, in [0, 1]
    by_hand: set = field(default_factory=set)  # ("workplace", j) / ("neighbourhood", h)
    surplus: float | None = None

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
    shortage_share: float = 0.0  # hours' worth of all shortages, as a share of the hours used
    bound: float | None = None  # best bound on the aim's optimum so far (the certificate)
    certified_gap: float | None = None  # the best repaired plan's certified gap, on rounds that repaired one

    def to_dict(self, full: bool = False) -> dict:
        d = {"round": self.round, "largest_imbalance": self.largest_imbalance,
             "labour_used": self.labour_used, "weighted_fulfilment": self.weighted_fulfilment,
             "worst_fulfilment": self.worst_fulfilment, "price_movement": self.price_movement,
             "shortage_share": self.shortage_share, "bound": self.bound, "certified_gap": self.certified_gap,
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
    scale: np.ndarray  # (n,) labour values: the unit in which shortages are weighed
    unit: float  # fulfilment units per hour at labour values
    tol: float = 1e-2
    max_rounds: int = 2000
    history: list = field(default_factory=list)
    last: Proposals | None = None
    done: bool = False
    converged: bool = False
    # the method (PDHG with restarts): primal weight, and the point and error of the last restart
    omega: float = 1.0
    level: float = 0.0  # max-min: the level the needs asked for last (the primal variable t)
    anchor_excess: np.ndarray | None = None  # (n + 1,) excess demand and hours over budget of the anchor
    since_restart: int = 0
    checks_since_repair: int = 1
    repair_round: int = 0  # the round of the last repair
    repair_cost: int = 0  # and its cost: passes over the input matrix, about a round's work each
    kkt_restart: float | None = None
    kkt_candidate: float | None = None
    restart_point: dict | None = None  # {"output", "fulfilment", "level", "value", "hour_value"}
    sums: dict | None = None  # running sums of the stretch since the last restart, for the average
    # the certificate: the lowest bound seen, and the best repaired plan's value and the inputs to its repair
    bound: float = float("inf")
    best_value: float = -float("inf")
    best_fulfilment: np.ndarray | None = None
    best_output: np.ndarray | None = None
    best_prices: np.ndarray | None = None
    certified: float | None = None
    best_plan: tuple | None = field(default=None, repr=False)  # the best repaired (output, fulfilment, measures)
    started: float = field(default_factory=time.perf_counter)
    _scaling: dict | None = field(default=None, repr=False)

    @property
    def indicative_prices(self) -> np.ndarray:
        """Prices in hours of work. Where labour is not scarce an hour is worth nothing at the margin and prices
        in hours read 0/0: the signal's values are then given at the labour values' rate, so they still say
        which goods are scarce."""
        s = self.signal
        return s.prices if s.hour_value > 1e-3 * self.unit else s.value / self.unit

    @property
    def scaling(self) -> dict:
        if self._scaling is None:
            self._scaling = _scaling(self.economy, self.aim)
        return self._scaling

    def to_dict(self) -> dict:
        """JSON-ready snapshot, so an application can keep the procedure between rounds."""
        def arr(a):
            return None if a is None else np.asarray(a).tolist()

        def arrs(d):
            return None if d is None else {k: (arr(v) if isinstance(v, np.ndarray) else v) for k, v in d.items()}
        sig = self.signal
        return {
            "method": "pdhg", "aim": self.aim, "tol": self.tol, "max_rounds": self.max_rounds,
            "done": self.done, "converged": self.converged, "unit": self.unit, "scale": arr(self.scale),
            "omega": self.omega, "level": self.level, "anchor_excess": arr(self.anchor_excess),
            "since_restart": self.since_restart, "checks_since_repair": self.checks_since_repair,
            "repair_round": self.repair_round, "repair_cost": self.repair_cost,
            "kkt_restart": self.kkt_restart,
            "kkt_candidate": self.kkt_candidate, "restart_point": arrs(self.restart_point), "sums": arrs(self.sums),
            "bound": None if math.isinf(self.bound) else self.bound,
            "best_value": None if math.isinf(self.best_value) else self.best_value,
            "best_fulfilment": arr(self.best_fulfilment), "best_output": arr(self.best_output),
            "best_prices": arr(self.best_prices),
            "certified": self.certified,
            "signal": {"round": sig.round, "value": arr(sig.value), "hour_value": sig.hour_value,
                       "need_weight": arr(sig.need_weight), "level": sig.level,
                       "anchor_output": arr(sig.anchor_output), "anchor_fulfilment": arr(sig.anchor_fulfilment)},
            "last": None if self.last is None else {"output": arr(self.last.output),
                                                    "fulfilment": arr(self.last.fulfilment)},
            "history": [r.to_dict(full=True) for r in self.history],
        }


def resume(economy: Economy, data: dict) -> PlanningState:
    """The PlanningState a `PlanningState.to_dict()` snapshot was taken from.

    A snapshot from before the certificate (no ``method`` key) resumes from its prices, as a warm start.
    """
    def arr(a):
        return None if a is None else np.asarray(a, dtype=float)

    def arrs(d):
        return None if d is None else {k: (arr(v) if isinstance(v, list) else v) for k, v in d.items()}
    sig = data["signal"]
    if data.get("method") != "pdhg":
        state = start(economy, data["aim"], tol=data["tol"], max_rounds=data["max_rounds"])
        state.signal.value, state.signal.hour_value = arr(sig["value"]), float(sig["hour_value"])
        state.signal.round = sig["round"]
        _publish_steps(state)
    else:
        state = PlanningState(economy, data["aim"], None, arr(data["scale"]), data["unit"], data["tol"],
                              data["max_rounds"], done=data["done"], converged=data["converged"],
                              omega=data["omega"], level=data["level"], anchor_excess=arr(data["anchor_excess"]),
                              since_restart=data["since_restart"],
                              checks_since_repair=data.get("checks_since_repair", 1), kkt_restart=data["kkt_restart"],
                              repair_round=data.get("repair_round", 0), repair_cost=data.get("repair_cost", 0),
                              kkt_candidate=data["kkt_candidate"], restart_point=arrs(data["restart_point"]),
                              sums=arrs(data["sums"]),
                              bound=float("inf") if data["bound"] is None else data["bound"],
                              best_value=-float("inf") if data["best_value"] is None else data["best_value"],
                              best_fulfilment=arr(data["best_fulfilment"]), best_output=arr(data["best_output"]),
                              best_prices=arr(data["best_prices"]),
                              certified=data["certified"])
        state.signal = PriceSignal(sig["round"], arr(sig["value"]), sig["hour_value"], arr(sig["need_weight"]),
                                   sig["level"], arr(sig["anchor_output"]), arr(sig["anchor_fulfilment"]))
        _publish_steps(state)
    if data["last"] is not None:
        state.last = Proposals(arr(data["last"]["output"]), arr(data["last"]["fulfilment"]))
    fields = ("largest_imbalance", "labour_used", "weighted_fulfilment", "worst_fulfilment",
              "price_movement", "shortage_share")
    state.history = [RoundReport(h["round"], arr(h.get("excess_demand")), **{k: h[k] for k in fields},
                                 bound=h.get("bound"), certified_gap=h.get("certified_gap"))
                     for h in data["history"]]
    return state


# ---------------------------------------------------------------- the problem as the method sees it
#
# Primal z = (x, g): outputs x in [0, capacity], and g the fulfilments f in [0, 1] (weighted) or the common
# level t in [0, 1] (max-min). Dual y = (p, mu) >= 0: a value per product and per hour. Constraints K z <= b:
# for each product, inputs used + deliveries - output <= 0; hours used <= budget. Objective c . z with
# c = (0, need weights) or (0, 1). K z - b is the excess demand (and hours over budget); c - K^T y is each
# council's margin at the prices.

def _k_matrix(e: Economy, aim: str) -> sp.csr_matrix:
    need_cols = e.delivers if aim == "weighted" else sp.csr_matrix(e.demand[:, None])
    top = sp.hstack([e.inputs - e.makes, need_cols])
    bottom = sp.hstack([sp.csr_matrix(e.labour[None, :]), sp.csr_matrix((1, need_cols.shape[1]))])
    return sp.vstack([top, bottom]).tocsr()


def _scaling(e: Economy, aim: str) -> dict:
    """Diagonal scalings of rows (dr) and columns (dc), and the step length, computed once per economy.

    Ruiz's equilibration (every row and column of the scaled matrix has largest entry one) and then Pock and
    Chambolle's (alpha = 1), as PDLP does: the councils' units (tonnes or grams, hours or minutes) then do
    not decide how fast the prices move. The step ``eta`` is 0.9 over the scaled matrix's largest singular
    value (power iteration), so that the primal and dual steps ``eta / omega * dc^2`` and
    ``eta * omega * dr^2`` meet the PDHG condition tau * sigma * ||K||^2 < 1 for every primal weight omega.
    """
    k = _k_matrix(e, aim)
    a = abs(k).tocoo()
    rows, cols = a.shape
    dr, dc = np.ones(rows), np.ones(cols)
    # (on the entries directly: a product of sparse matrices each sweep costs more than all the rounds of an
    # easy economy)
    for _ in range(RUIZ_SWEEPS):
        v = a.data * dr[a.row] * dc[a.col]
        rmax, cmax = np.zeros(rows), np.zeros(cols)
        np.maximum.at(rmax, a.row, v)
        np.maximum.at(cmax, a.col, v)
        dr /= np.sqrt(np.where(rmax > 0, rmax, 1.0))
        dc /= np.sqrt(np.where(cmax > 0, cmax, 1.0))
    v = a.data * dr[a.row] * dc[a.col]
    rsum = np.bincount(a.row, v, minlength=rows)
    csum = np.bincount(a.col, v, minlength=cols)
    dr /= np.sqrt(np.where(rsum > 0, rsum, 1.0))
    dc /= np.sqrt(np.where(csum > 0, csum, 1.0))
    kc = k.tocoo()
    s = sp.csr_matrix((kc.data * dr[kc.row] * dc[kc.col], (kc.row, kc.col)), shape=k.shape)
    st = s.T.tocsr()
    v = np.ones(cols) / math.sqrt(max(cols, 1))
    norm = 1.0
    for _ in range(40):
        w = st @ (s @ v)
        nw = math.sqrt(dot(w, w))
        if nw == 0:
            break
        norm = math.sqrt(nw)
        v = w / nw
    return {"dr": dr, "dc": dc, "eta": 0.9 / max(norm * 1.02, 1e-12), "rows": rows, "cols": cols}


def _objective_vector(e: Economy, aim: str) -> np.ndarray:
    return weights(e) if aim == "weighted" else np.ones(1)


def _steps(state: PlanningState):
    sc = state.scaling
    tau = sc["eta"] / state.omega * sc["dc"] ** 2
    sigma = sc["eta"] * state.omega * sc["dr"] ** 2
    return tau, sigma


def _publish_steps(state: PlanningState) -> None:
    tau, _ = _steps(state)
    m = state.economy.n_workplaces
    state.signal.step_output = tau[:m]
    state.signal.step_fulfilment = tau[m:] if state.aim == "weighted" else np.zeros(state.economy.n_needs)


def _excess(e: Economy, x, f) -> np.ndarray:
    """(n + 1,): each product's use beyond its output, and the hours used beyond the budget."""
    return np.concatenate([e.inputs @ x + e.delivers @ f - e.makes @ x, [dot(e.labour, x) - e.labour_budget]])


def _bound(state: PlanningState, value: np.ndarray, hour_value: float, surplus: float | None = None,
           scaled: bool = True) -> float:
    """The certificate's bound on the aim's optimum at these prices (certificate.py)."""
    e = state.economy
    if surplus is None:
        surplus = workplace_surplus(e, value, hour_value)
    if state.aim == "maxmin":
        return maxmin_bound(surplus, hour_value, e.labour_budget, dot(value, e.demand))
    w = state.signal.need_weight
    cost = e.need_quantity * value[e.need_product]
    if scaled:
        return weighted_bound(surplus, hour_value, e.labour_budget, w, cost)
    return surplus + hour_value * e.labour_budget + float(np.maximum(w - cost, 0.0).sum())


def start(economy: Economy, aim: str = "weighted", *, tol: float = 1e-2, max_rounds: int = 2000,
          warm: "PlanningState | None" = None) -> PlanningState:
    """Open a plan period: the first signal prices each product at its labour value.

    With ``warm`` (the state a previous plan ended in) the procedure starts from that plan's prices,
    proposals and primal weight, so a shock is absorbed in few rounds.
    """
    if aim not in AIMS:
        raise ValueError(f"aim must be one of {AIMS}")
    e = economy
    v = labour_values(e)
    v = np.maximum(v, 1e-9 * max(float(v.max(initial=0.0)), 1.0))
    w = weights(e)
    hours_all = dot(v, e.demand)
    unit = 1.0 / hours_all if hours_all > 0 else 1.0
    cap = e.effective_capacity
    if warm is not None and warm.aim == aim and warm.signal.value.shape == (e.n_products,):
        x0 = np.minimum(warm.last.output if warm.last is not None else warm.signal.anchor_output, cap)
        f0 = (warm.last.fulfilment if warm.last is not None else warm.signal.anchor_fulfilment).copy()
        signal = PriceSignal(0, warm.signal.value.copy(), warm.signal.hour_value, w.copy(), None, x0, f0)
        omega, level = warm.omega, warm.level
    else:
        signal = PriceSignal(0, unit * v, unit, w.copy(), None, np.zeros(e.n_workplaces), np.zeros(e.n_needs))
        omega, level = None, 0.0
    state = PlanningState(e, aim, signal, v, unit, tol, max_rounds, level=level)
    if omega is None:
        sc = state.scaling
        c = _objective_vector(e, aim) * sc["dc"][e.n_workplaces:]
        b = e.labour_budget * sc["dr"][-1]
        cn, bn = math.sqrt(dot(c, c)), abs(b)
        omega = cn / bn if cn > 0 and bn > 0 else 1.0
    state.omega = omega
    _publish_steps(state)
    state.anchor_excess = _excess(e, signal.anchor_output, signal.anchor_fulfilment)
    state.restart_point = _point(state, signal.anchor_output, signal.anchor_fulfilment, level, signal.value,
                                 signal.hour_value)
    state.sums = _empty_sums(state)
    if aim == "maxmin":
        _next_level(state)
    return state


def _point(state, x, f, level, value, hour_value) -> dict:
    return {"output": np.asarray(x, dtype=float).copy(), "fulfilment": np.asarray(f, dtype=float).copy(),
            "level": float(level), "value": np.asarray(value, dtype=float).copy(), "hour_value": float(hour_value)}


def _empty_sums(state) -> dict:
    e = state.economy
    return {"count": 0, "output": np.zeros(e.n_workplaces), "fulfilment": np.zeros(e.n_needs), "level": 0.0,
            "value": np.zeros(e.n_products), "hour_value": 0.0, "excess": np.zeros(e.n_products + 1)}


def _next_level(state: PlanningState) -> None:
    """Max-min: the level the needs ask for next, a proximal step of the level from the published prices."""
    e, s = state.economy, state.signal
    tau, _ = _steps(state)
    margin = 1.0 - dot(s.value, e.demand)
    s.level = float(np.clip(state.level + tau[-1] * margin, 0.0, 1.0))


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
        margin = s.value[e.workplace_product[index]] - cost
        return np.array([workplace_rule(margin, e.effective_capacity[index], s.anchor_output[index],
                                        s.step_output[index])])
    if kind == "neighbourhood":
        ks = np.flatnonzero(e.need_council == index)
        if s.level is not None:
            return np.full(ks.size, s.level)
        return need_rule(s.need_weight[ks], e.need_quantity[ks], s.value[e.need_product[ks]],
                         s.anchor_fulfilment[ks], s.step_fulfilment[ks])
    raise ValueError("kind must be 'workplace' or 'neighbourhood'")


def workplace_rule(margin, capacity, anchor, step):
    """Proximal best response of a workplace.

    The output maximising ``margin * x - (x - anchor)^2 / (2 * step)`` over [0, capacity]: the workplace
    moves from its last proposal towards full capacity while its product's price more than covers its cost
    at the published prices, towards nothing while it does not, by its responsiveness times the margin.
    The quadratic term (the cost of changing one's proposal) is what keeps the rounds from oscillating.
    """
    return np.clip(anchor + step * margin, 0.0, capacity)


def need_rule(weight, quantity, price, anchor, step):
    """Proximal best response of a neighbourhood for its needs: share of each need to ask for.

    Moves from the last share asked for by the responsiveness times the need's margin (its weight in the
    aim minus its cost at the published prices), within [0, 1].
    """
    return np.clip(anchor + step * (weight - quantity * price), 0.0, 1.0)


def facilitate(state: PlanningState, proposals: Proposals) -> RoundReport:
    """One facilitation step: aggregate the proposals, report, publish the next signal.

    Mutates ``state`` (its signal, history, restart memory and certificate) and returns the round's report.
    """
    e, s = state.economy, state.signal
    x, f = proposals.output, proposals.fulfilment
    level = s.level if s.level is not None else 0.0
    excess_all = _excess(e, x, f)
    excess = excess_all[:-1]
    labour_used = excess_all[-1] + e.labour_budget
    used = e.inputs @ x + e.delivers @ f
    imbalance = _largest_imbalance(excess, used)
    shortage_share = dot(state.scale, np.maximum(excess, 0)) / max(dot(state.scale, used), 1e-300)
    w = weights(e)
    # the certificate at the published prices: each council's best-response surplus, plus the hours' worth
    if proposals.surplus is None:
        bound = _bound(state, s.value, s.hour_value, scaled=False)
    else:
        bound = _bound_from_surplus(state, proposals.surplus)
    state.bound = min(state.bound, bound)
    report = RoundReport(s.round, excess, imbalance, labour_used, dot(w, f), float(f.min()) if f.size else 1.0,
                         0.0, shortage_share, state.bound)
    state.last = proposals
    state.history.append(report)

    # the dual step, from the extrapolated excess demand 2 K z_new - K z_anchor - b
    _, sigma = _steps(state)
    drive = 2.0 * excess_all - state.anchor_excess
    y = np.concatenate([s.value, [s.hour_value]])
    y_new = np.maximum(y + sigma * drive, 0.0)
    sums = state.sums
    sums["count"] += 1
    sums["output"] += x
    sums["fulfilment"] += f
    sums["level"] += level
    sums["value"] += y_new[:-1]
    sums["hour_value"] += float(y_new[-1])
    sums["excess"] += excess_all
    state.since_restart += 1
    anchor = _point(state, x, f, level, y_new[:-1], y_new[-1])
    anchor_excess = excess_all

    if state.since_restart % CHECK_EVERY == 0:
        anchor, anchor_excess = _check(state, anchor, excess_all, report)
    if state.done:
        return report
    # at the round limit the next signal is still published: an application that grants more rounds
    # (the economy app's worker, round budget after round budget) goes on from it
    state.done = s.round + 1 >= state.max_rounds

    old_prices = state.indicative_prices
    state.anchor_excess = anchor_excess
    state.level = anchor["level"]
    state.signal = PriceSignal(s.round + 1, anchor["value"], anchor["hour_value"], s.need_weight, None,
                               anchor["output"], anchor["fulfilment"])
    _publish_steps(state)
    if state.aim == "maxmin":
        _next_level(state)
    report.price_movement = float(np.abs(state.indicative_prices - old_prices).sum()
                                  / max(np.abs(old_prices).sum(), 1e-300))
    return report


def _bound_from_surplus(state: PlanningState, surplus: float) -> float:
    """The plain bound from the councils' reported surpluses (workplaces' and, for weighted, needs')."""
    e, s = state.economy, state.signal
    if state.aim == "maxmin":
        return maxmin_bound(surplus, s.hour_value, e.labour_budget, dot(s.value, e.demand))
    return surplus + s.hour_value * e.labour_budget


def _kkt(state, point, excess_all) -> tuple[float, float]:
    """PDLP's error of a point: primal infeasibility (scaled) and the gap to its own bound, weighed by omega."""
    sc = state.scaling
    residual = sc["dr"] * np.maximum(excess_all, 0.0)
    bound = _bound(state, point["value"], point["hour_value"], scaled=False)
    objective = dot(state.signal.need_weight, point["fulfilment"]) if state.aim == "weighted" else point["level"]
    gap = bound - objective
    return math.sqrt(state.omega ** 2 * dot(residual, residual) + gap * gap), bound


def _check(state: PlanningState, current: dict, current_excess: np.ndarray, report: RoundReport):
    """Every CHECK_EVERY rounds: restart from the better of the current point and the stretch's average
    when PDLP's rules say so, and repair a plan when it may be good enough to certify."""
    sums = state.sums
    n = sums["count"]
    average = {"output": sums["output"] / n, "fulfilment": sums["fulfilment"] / n, "level": sums["level"] / n,
               "value": sums["value"] / n, "hour_value": sums["hour_value"] / n}
    average_excess = sums["excess"] / n
    kkt_cur, bound_cur = _kkt(state, current, current_excess)
    kkt_avg, bound_avg = _kkt(state, average, average_excess)
    state.bound = min(state.bound, bound_cur, bound_avg,
                      _bound(state, current["value"], current["hour_value"]),
                      _bound(state, average["value"], average["hour_value"]))
    report.bound = state.bound
    if kkt_avg < kkt_cur:
        candidate, candidate_excess, kkt = average, average_excess, kkt_avg
    else:
        candidate, candidate_excess, kkt = current, current_excess, kkt_cur

    # the certificate: repair the candidate's (and the current) proposals when they may be within tol
    objective = (dot(state.signal.need_weight, candidate["fulfilment"]) if state.aim == "weighted"
                 else candidate["level"])
    # (a repair costs some rounds' time: only when the proposals are nearly balanced and may certify)
    hours = dot(state.scale, np.maximum(candidate_excess[:-1], 0.0)) / max(_hours_worth(state, candidate), 1e-300)
    # (and, for the chart and the page, at least every REPAIR_EVERY checks, so the certified gap is a series)
    state.checks_since_repair += 1
    promising = certified_gap(state.bound, objective) <= state.tol and hours <= state.tol
    # (a repair costs about as much as `repair_cost` rounds: it waits until as many have passed, so that repairs
    # take at most about half the time on an economy where they are dear)
    affordable = state.signal.round - state.repair_round >= state.repair_cost
    if ((promising and state.checks_since_repair >= 2 and affordable)
            or (state.checks_since_repair >= REPAIR_EVERY and affordable)
            or state.signal.round + 1 >= state.max_rounds):
        state.checks_since_repair = 0
        _try_plan(state, candidate["output"], candidate["fulfilment"],
                  _hours(state, candidate["value"], candidate["hour_value"]))
        report.certified_gap = state.certified
        if state.certified is not None and state.certified <= state.tol:
            state.done = state.converged = True
            return current, current_excess

    first = state.kkt_restart is None
    total = len(state.history)
    restart = (first or kkt <= RESTART_SUFFICIENT * state.kkt_restart
               or (kkt <= RESTART_NECESSARY * state.kkt_restart and state.kkt_candidate is not None
                   and kkt > state.kkt_candidate)
               or state.since_restart >= RESTART_ARTIFICIAL * total)
    state.kkt_candidate = kkt
    if not restart:
        return current, current_excess
    # a new primal weight balances how far the prices and the proposals moved since the last restart
    sc, last = state.scaling, state.restart_point
    m = state.economy.n_workplaces
    g_new = candidate["fulfilment"] if state.aim == "weighted" else np.array([candidate["level"]])
    g_old = last["fulfilment"] if state.aim == "weighted" else np.array([last["level"]])
    dz = np.concatenate([(candidate["output"] - last["output"]) / sc["dc"][:m], (g_new - g_old) / sc["dc"][m:]])
    dy = (np.concatenate([candidate["value"] - last["value"], [candidate["hour_value"] - last["hour_value"]]])
          / sc["dr"])
    nz, ny = math.sqrt(dot(dz, dz)), math.sqrt(dot(dy, dy))
    if nz > 1e-10 and ny > 1e-10 and not first:
        state.omega = math.exp(0.5 * math.log(ny / nz) + 0.5 * math.log(state.omega))
    state.restart_point = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in candidate.items()}
    state.kkt_restart = kkt
    state.kkt_candidate = None
    state.since_restart = 0
    state.sums = _empty_sums(state)
    return candidate, candidate_excess


def _hours_worth(state: PlanningState, point: dict) -> float:
    """Hours at labour values of everything the point's proposals use (inputs and deliveries)."""
    e = state.economy
    return dot(state.scale, e.inputs @ point["output"] + e.delivers @ point["fulfilment"])


def _hours(state: PlanningState, value: np.ndarray, hour_value: float) -> np.ndarray:
    """Prices in hours (at the labour values' rate where an hour is worth nothing at the margin)."""
    return value / hour_value if hour_value > 1e-3 * state.unit else value / state.unit


def _try_plan(state: PlanningState, output: np.ndarray, fulfilment: np.ndarray, prices: np.ndarray) -> None:
    """Repair these proposals; keep the plan if it is the best so far, and update the certified gap."""
    from .repair import repair
    from .results import measure
    e = state.economy
    stats = {}
    x, f = repair(e, fulfilment, prices, state.signal.need_weight, aim=state.aim, output=output, stats=stats)
    state.repair_round, state.repair_cost = state.signal.round, stats["sweeps"]
    m = measure(e, x, f)
    value = m.worst_fulfilment if state.aim == "maxmin" else m.weighted_fulfilment
    if value > state.best_value:
        state.best_value = value
        state.best_plan = (x, f, m)
        state.best_fulfilment = np.asarray(fulfilment, dtype=float).copy()
        state.best_output = np.asarray(output, dtype=float).copy()
        state.best_prices = np.asarray(prices, dtype=float).copy()
    state.certified = certified_gap(state.bound, state.best_value)


def _largest_imbalance(excess, used):
    short = np.maximum(excess, 0.0)
    rel = short / np.maximum(used, 1e-12)
    return float(rel.max()) if rel.size else 0.0


def finish(state: PlanningState, backend_name: str = "numpy") -> "PlanResult":
    """Repair the best proposals into a feasible plan and report it with its certified gap."""
    from .repair import repair
    from .results import PlanResult, measure
    e = state.economy
    procedure_seconds = time.perf_counter() - state.started
    t0 = time.perf_counter()
    if state.last is None:
        raise ValueError("no round has been facilitated yet")
    prices = state.indicative_prices
    candidates = [(state.last.output, state.last.fulfilment, prices)]
    best = None
    if state.best_plan is not None:  # the best plan repaired so far (the repair is deterministic)
        x, f, m = state.best_plan
        best = (state.best_value, x, f, m)
        if state.converged:
            candidates = []
    elif state.best_fulfilment is not None:
        candidates.insert(0, (state.best_output, state.best_fulfilment, state.best_prices))
    for x_in, f_in, p_in in candidates:
        x, f = repair(e, f_in, p_in, state.signal.need_weight, aim=state.aim, output=x_in)
        m = measure(e, x, f)
        value = m.worst_fulfilment if state.aim == "maxmin" else m.weighted_fulfilment
        if best is None or value > best[0]:
            best = (value, x, f, m)
    value, x, f, measures = best
    # The economy may have lost capacity since the bound was taken (a council planning by hand offers at
    # most what it typed): the bound of the larger economy still bounds the smaller one's optimum.
    bound = min(state.bound, _bound(state, state.signal.value, state.signal.hour_value))
    gap = certified_gap(bound, value)
    repair_seconds = time.perf_counter() - t0
    return PlanResult(
        aim=state.aim, backend=backend_name, output=x, fulfilment=f, prices=prices,
        hour_value=state.signal.hour_value, rounds=len(state.history),
        converged=bool(gap <= state.tol), measures=measures, history=list(state.history),
        procedure_seconds=procedure_seconds, repair_seconds=repair_seconds, labour_budget=e.labour_budget,
        state=state, bound=bound, certified_gap=gap, tol=state.tol, _quantity=e.need_quantity,
    )


def plan(economy: Economy, aim: str = "weighted", *, backend: str = "numpy", scheduler: str | None = None,
         partitions: int | None = None, max_rounds: int = 2000, tol: float = 1e-2, warm=None,
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
