"""The result of planning: the plan, how it was reached, and how good it is."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .economy import Economy, dot
from .optimum import OptimumResult, weights


@dataclass
class PlanMeasures:
    weighted_fulfilment: float
    worst_fulfilment: float
    council_spread: float  # best- minus worst-served council, by weighted fulfilment
    largest_imbalance: float  # largest shortage as a share of the product's use
    labour_used: float
    capacity_respected: bool


def measure(economy: Economy, output: np.ndarray, fulfilment: np.ndarray) -> PlanMeasures:
    e = economy
    w = weights(e)
    used = e.inputs @ output + e.delivers @ fulfilment
    short = np.maximum(used - e.makes @ output, 0.0)
    imbalance = float((short / np.maximum(used, 1e-12)).max()) if short.size else 0.0
    by_council = np.bincount(e.need_council, w * fulfilment, minlength=e.n_councils)
    council_w = np.bincount(e.need_council, w, minlength=e.n_councils)
    has = council_w > 0
    share = by_council[has] / council_w[has]
    spread = float(share.max() - share.min()) if share.size else 0.0
    return PlanMeasures(
        weighted_fulfilment=dot(w, fulfilment),
        worst_fulfilment=float(fulfilment.min()) if fulfilment.size else 1.0,
        council_spread=spread,
        largest_imbalance=imbalance,
        labour_used=dot(e.labour, output),
        capacity_respected=bool(np.all(output <= e.effective_capacity * (1 + 1e-9) + 1e-12)),
    )


@dataclass
class PlanResult:
    """Everything a caller needs to explain a plan (after scipy.optimize's result objects)."""

    aim: str
    backend: str
    output: np.ndarray  # (m,) units each workplace makes
    fulfilment: np.ndarray  # (k,) share of each need delivered
    prices: np.ndarray  # (n,) indicative prices, labour hours per unit
    hour_value: float
    rounds: int
    converged: bool
    measures: PlanMeasures
    history: list = field(default_factory=list)  # RoundReport per round
    procedure_seconds: float = 0.0
    repair_seconds: float = 0.0
    labour_budget: float = 0.0
    optimum: OptimumResult | None = None
    state: object = field(default=None, repr=False)  # PlanningState, for warm starts
    bound: float | None = None  # the certificate: no plan can do better than this (aim's units)
    certified_gap: float | None = None  # (bound - objective) / bound: at least the true gap to the optimum
    tol: float | None = None  # the certified gap "converged" promises

    @property
    def deliveries(self) -> np.ndarray:
        return self.fulfilment * self._quantity

    @property
    def objective(self) -> float:
        m = self.measures
        return m.worst_fulfilment if self.aim == "maxmin" else m.weighted_fulfilment

    @property
    def gap(self) -> float | None:
        """Shortfall from the LP optimum, as a share of the optimum."""
        if self.optimum is None:
            return None
        best = self.optimum.objective
        return (best - self.objective) / best if best > 0 else 0.0

    @property
    def seconds(self) -> float:
        return self.procedure_seconds + self.repair_seconds

    _quantity: np.ndarray = field(default=None, repr=False)

    def to_dict(self, history_detail: bool = False) -> dict:
        m = self.measures
        return {
            "aim": self.aim, "backend": self.backend, "rounds": self.rounds, "converged": self.converged,
            "bound": self.bound, "certified_gap": self.certified_gap, "tol": self.tol,
            "objective": self.objective, "gap_to_optimum": self.gap,
            "weighted_fulfilment": m.weighted_fulfilment, "worst_fulfilment": m.worst_fulfilment,
            "council_spread": m.council_spread, "largest_imbalance": m.largest_imbalance,
            "labour_used": m.labour_used, "labour_budget": self.labour_budget,
            "capacity_respected": m.capacity_respected,
            "procedure_seconds": self.procedure_seconds, "repair_seconds": self.repair_seconds,
            "output": self.output.tolist(), "fulfilment": self.fulfilment.tolist(),
            "deliveries": self.deliveries.tolist(), "prices": self.prices.tolist(),
            "hour_value": self.hour_value,
            "history": [r.to_dict(history_detail) for r in self.history],
            "optimum": None if self.optimum is None else {
                "objective": self.optimum.objective, "seconds": self.optimum.seconds,
                "method": self.optimum.method},
        }
