"""Participatory planning of production against needs, checked against the LP optimum.

A pure engine: plain data in, plain data out (numpy and scipy), no Django.
"""
from .economy import Economy, EconomyError
from .labour import labour_values
from .optimum import OptimumResult, optimum
from .procedure import (
    PlanningState, PriceSignal, Proposals, RoundReport, default_proposal, default_proposals,
    facilitate, finish, plan, resume, start,
)
from .results import PlanMeasures, PlanResult, measure
from .synthetic import SIZES, synthetic_economy

__all__ = [
    "Economy", "EconomyError", "OptimumResult", "PlanMeasures", "PlanResult", "PlanningState",
    "PriceSignal", "Proposals", "RoundReport", "SIZES", "default_proposal", "default_proposals",
    "facilitate", "finish", "labour_values", "measure", "optimum", "plan", "resume", "start", "synthetic_economy",
]
