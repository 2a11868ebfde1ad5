"""The kinds of vote the economy owns, registered with decisions' registry from ``EconomyConfig.ready()``: the
federation's catalogue of products, a neighbourhood's needs list, opening a plan period, each council's acceptance of
its part of the plan, and the federation's adoption of the whole plan."""

from __future__ import annotations

from councils.decisions import kinds
from councils.decisions.kinds import ANY, BASE, FEDERATION, Kind
from councils.economy import services
from councils.economy.models import EconomyKind


def register() -> None:
    E = EconomyKind
    kinds.register(Kind(E.CATALOGUE, E.CATALOGUE.label, councils=FEDERATION, proposable=True, mandated=True,
                        method="yes_no", apply=services.apply_catalogue, undo=services.undo_catalogue))
    kinds.register(Kind(E.NEEDS, E.NEEDS.label, councils=BASE, method="yes_no", apply=services.apply_needs))
    kinds.register(Kind(E.PLAN_PERIOD, E.PLAN_PERIOD.label, councils=FEDERATION, proposable=True, mandated=True,
                        method="yes_no", apply=services.open_plan_period))
    # The procedure opens these and needs their result, adopted or not: a rejected part sends the plan back to rounds.
    kinds.register(Kind(E.PLAN_PART, E.PLAN_PART.label, councils=ANY, method="yes_no", apply=services.apply_part_vote,
                        apply_always=True, fixed_schedule=True, withdrawable=False))
    kinds.register(Kind(E.PLAN_ADOPTION, E.PLAN_ADOPTION.label, councils=FEDERATION, mandated=True, method="yes_no",
                        apply=services.apply_adoption, apply_always=True, fixed_schedule=True, withdrawable=False))
