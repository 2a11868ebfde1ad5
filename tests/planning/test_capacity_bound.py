"""Economies where the workplaces' own hours or capacities bind, not the federation's labour budget."""
import numpy as np
import pytest
import scipy.sparse as sp

from councils.planning import Economy, plan


def _flour_and_bread(mill_hours, bakery_hours):
    return Economy(
        product_names=["flour", "bread"], product_units=["kg", "loaf"], workplace_product=np.array([0, 1]),
        inputs=sp.csc_matrix(np.array([[0, 0.6], [0, 0]])), labour=np.array([0.1, 0.5]), capacity=np.array([1000, 400.0]),
        need_product=np.array([1, 0, 1]), need_quantity=np.array([150, 50, 120.0]), need_priority=np.array([2, 1, 1.0]),
        need_council=np.array([0, 0, 1]), council_names=["north", "south"], labour_budget=mill_hours + bakery_hours,
        workplace_names=["mill", "bakery"], workplace_hours=np.array([mill_hours, bakery_hours], dtype=float),
    )


@pytest.mark.parametrize("hours", [(10, 60), (80, 100), (80, 150)])
def test_weighted_plan_reaches_the_optimum_when_capacities_bind_and_labour_is_left_over(hours):
    # Labour left over prices an hour at zero; surpluses of still valuable goods must keep the rounds going
    # (they read 0/0 in hours), or the procedure stops early and the plan falls short of the optimum.
    result = plan(_flour_and_bread(*hours), "weighted", compare=True)
    assert result.converged
    assert result.gap <= result.certified_gap + 1e-9 <= 0.01 + 1e-9


@pytest.mark.parametrize("hours", [(10, 60), (80, 100)])
def test_maxmin_plan_brackets_the_level_the_capacities_allow(hours):
    # Under max-min the needs ask for a common level whatever the prices: when the workplaces' own
    # hours bind first, idle budget hours must not keep raising the level past what can be made.
    result = plan(_flour_and_bread(*hours), "maxmin", compare=True)
    assert result.converged and result.rounds < 1000
    assert result.gap <= result.certified_gap + 1e-9 <= 0.01 + 1e-9


def test_a_stored_state_keeps_the_certificate():
    from councils.planning import default_proposals, facilitate, resume, start

    economy = _flour_and_bread(10, 60)
    state = start(economy, "maxmin")
    for _ in range(70):
        facilitate(state, default_proposals(state))
    again = resume(economy, state.to_dict())
    assert (again.bound, again.best_value, again.omega) == (state.bound, state.best_value, state.omega)
