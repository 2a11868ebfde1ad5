"""The planning engine: feasibility, quality against HiGHS, labour values, backends, file format."""
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from councils.planning import (
    EconomyError, default_proposal, default_proposals, facilitate, finish, labour_values, optimum, plan,
    start, synthetic_economy,
)
from councils.planning.baselines import harmony, parecon_price_adjustment
from councils.planning.io import economy_from_dict, economy_to_dict, load_economy, save_economy

# on tiny economies (a dozen products) a few products decide everything and the
# smoothing of the last band shows: the stated gap there is 5%; 1% from small up
MAXMIN_GAP = 0.05
# Derandomised: about one tiny economy in two hundred ends far from the optimum (docs/planning.md, Limits),
# and CI must not pass or fail by the draw.
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def assert_feasible(e, result):
    x, f = result.output, result.fulfilment
    supply = e.makes @ x
    use = e.inputs @ x + e.delivers @ f
    assert np.all(use <= supply * (1 + 1e-9) + 1e-9)
    assert np.all(x <= e.effective_capacity * (1 + 1e-12) + 1e-12) and np.all(x >= 0)
    assert np.all((f >= 0) & (f <= 1 + 1e-12))
    assert e.labour @ x <= e.labour_budget * (1 + 1e-9)


@SETTINGS
@given(seed=st.integers(0, 10_000), share=st.floats(0.2, 0.8), aim=st.sampled_from(["weighted", "maxmin"]))
def test_repaired_plan_is_feasible_and_near_the_optimum(seed, share, aim):
    e = synthetic_economy("tiny", seed, labour_share=share)
    result = plan(e, aim, compare=True)
    assert_feasible(e, result)
    assert result.measures.largest_imbalance <= 1e-3
    stated_gap = 0.05 if aim == "weighted" else MAXMIN_GAP
    assert result.gap <= stated_gap + 1e-6


@pytest.mark.parametrize("aim", ["weighted", "maxmin"])
def test_procedure_converges_on_small_economy_within_one_percent(aim):
    e = synthetic_economy("small", 3)
    result = plan(e, aim, compare=True)
    assert result.converged
    assert result.gap <= 0.015
    assert_feasible(e, result)
    # the shortage falls by orders of magnitude between the first and the last round, and the round that
    # stopped the procedure certified its plan
    assert result.history[-1].shortage_share < 0.05 * result.history[0].shortage_share
    assert result.history[-1].certified_gap <= 0.01


def test_medium_economy_reaches_optimum_within_one_percent():
    e = synthetic_economy("medium", 1)
    result = plan(e, compare=True)
    assert result.converged and result.gap <= 0.01
    assert_feasible(e, result)


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_labour_values_match_dense_solve(seed):
    e = synthetic_economy("small", seed)
    from councils.planning.labour import technique_mix
    mix = technique_mix(e).toarray()
    a = e.inputs.toarray() @ mix
    dense = np.linalg.solve(np.eye(e.n_products) - a.T, mix.T @ e.labour)
    np.testing.assert_allclose(labour_values(e), dense, rtol=1e-9)


def test_labour_values_of_cyclic_productive_technology():
    d = tiny_dict()
    d["workplaces"][0]["inputs"] = {"bread": 0.1}  # flour uses a little bread: a cycle, still productive
    e = economy_from_dict(d)
    v = labour_values(e)
    # bakeries mixed by capacity 50:30: bread = 0.5*5/8 + 1.5*3/8 + (2*5/8 + 1.5*3/8) flour
    bread_direct, bread_flour = 0.5 * 5 / 8 + 1.5 * 3 / 8, 2 * 5 / 8 + 1.5 * 3 / 8
    flour = (1 + 0.1 * bread_direct) / (1 - 0.1 * bread_flour)
    assert v[0] == pytest.approx(flour)
    assert v[1] == pytest.approx(bread_direct + bread_flour * flour)


def test_stepping_api_accepts_hand_typed_proposals():
    e = synthetic_economy("small", 5)
    state = start(e)
    proposals = default_proposals(state)
    j = 7
    assert proposals.output[j] == pytest.approx(default_proposal(state, "workplace", j)[0])
    ks = np.flatnonzero(e.need_council == 2)
    np.testing.assert_allclose(proposals.fulfilment[ks], default_proposal(state, "neighbourhood", 2))
    proposals.set_workplace(e, j, 0.0)
    proposals.set_neighbourhood(e, 2, {int(ks[0]): float(e.need_quantity[ks[0]])})
    report = facilitate(state, proposals)
    assert report.round == 0 and state.signal.round == 1
    while not state.done:
        facilitate(state, default_proposals(state))
    result = finish(state)
    assert_feasible(e, result)
    assert json.dumps(result.to_dict())


def test_hand_typed_proposal_beyond_capacity_is_refused():
    e = synthetic_economy("small", 5)
    proposals = default_proposals(start(e))
    with pytest.raises(ValueError, match="capacity"):
        proposals.set_workplace(e, 0, e.effective_capacity[0] * 2 + 1)


def test_warm_start_recovers_from_capacity_shock_in_fewer_rounds():
    e = synthetic_economy("small", 4)
    before = plan(e)
    shocked = e.with_capacity(e.capacity * np.where(np.arange(e.n_workplaces) % 5 == 0, 0.5, 1.0))
    cold = plan(shocked)
    warm = plan(shocked, warm=before)
    assert_feasible(shocked, warm)
    assert warm.rounds < cold.rounds


def test_baselines_return_feasible_plans():
    e = synthetic_economy("small", 6)
    for result in (parecon_price_adjustment(e, rounds=50), harmony(e, iterations=50)):
        assert_feasible(e, result)


def test_optimum_prices_are_labour_hours():
    e = synthetic_economy("small", 1)
    opt = optimum(e)
    assert 0 < opt.objective <= 1
    # no product's shadow price exceeds the dearest way of making it from scratch by much
    assert np.all(opt.prices >= -1e-9)


# ---------------------------------------------------------------- file format

def tiny_dict():
    return {
        "format": "councils-economy", "version": 1,
        "products": [{"name": "flour", "unit": "kg"}, {"name": "bread", "unit": "loaf"}],
        "workplaces": [
            {"name": "mill", "product": "flour", "labour": 1.0, "capacity": 100},
            {"name": "bakery", "product": "bread", "labour": 0.5, "capacity": 50, "inputs": {"flour": 2}},
            {"name": "old bakery", "product": 1, "labour": 1.5, "capacity": 30, "inputs": [["flour", 1.5]]},
        ],
        "needs": [{"council": "north", "product": "bread", "quantity": 40, "priority": 2},
                  {"council": "south", "product": "bread", "quantity": 30},
                  {"council": "south", "product": "flour", "quantity": 10, "priority": 1}],
        "labour_budget": 100,
    }


def test_json_and_npz_round_trip(tmp_path):
    e = synthetic_economy("small", 2)
    for name in ("e.json", "e.npz"):
        save_economy(e, tmp_path / name)
        back = load_economy(tmp_path / name)
        np.testing.assert_array_equal(back.inputs.toarray(), e.inputs.toarray())
        np.testing.assert_array_equal(back.need_quantity, e.need_quantity)
        assert back.labour_budget == e.labour_budget
    assert economy_to_dict(economy_from_dict(tiny_dict()))["workplaces"][2]["inputs"] == {"flour": 1.5}


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("labour_budget"), "labour_budget"),
    (lambda d: d["workplaces"][1].pop("capacity"), "workplaces[1].capacity"),
    (lambda d: d["workplaces"][1].update(capacity=-5), "workplaces[1].capacity"),
    (lambda d: d["workplaces"][0].update(labour="lots"), "workplaces[0].labour"),
    (lambda d: d["workplaces"][1].update(inputs={"rye": 1}), "workplaces[1].inputs"),
    (lambda d: d["needs"][0].update(product=7), "needs[0].product"),
    (lambda d: d["needs"][1].update(quantity=float("nan")), "needs[1].quantity"),
    (lambda d: d.update(products="flour"), "products"),
    (lambda d: d["workplaces"][0].update(inputs={"bread": 1.0}), "workplaces.inputs"),  # cyclic, unproductive
])
def test_malformed_economy_is_rejected_naming_the_field(mutate, field):
    d = tiny_dict()
    mutate(d)
    with pytest.raises(EconomyError) as info:
        economy_from_dict(d)
    assert info.value.field == field
    assert field in str(info.value)


def test_npz_with_wrong_shape_names_the_field(tmp_path):
    e = synthetic_economy("tiny", 1)
    save_economy(e, tmp_path / "e.npz")
    with np.load(tmp_path / "e.npz") as z:
        arrays = dict(z)
    arrays["capacity"] = arrays["capacity"][:-1]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(EconomyError, match="capacity"):
        load_economy(tmp_path / "bad.npz")


def test_state_survives_a_json_round_trip_between_rounds():
    from councils.planning import resume
    e = synthetic_economy("small", 7)
    straight = plan(e)
    state = start(e)
    while not state.done:
        facilitate(state, default_proposals(state))
        if state.signal.round % 40 == 1:  # a snapshot every round would only repeat itself
            state = resume(e, json.loads(json.dumps(state.to_dict())))
    stepped = finish(state)
    assert stepped.rounds == straight.rounds
    np.testing.assert_array_equal(stepped.output, straight.output)


def test_degenerate_economies_plan_without_error():
    d = tiny_dict()
    d["workplaces"][0]["labour"] = 0.0  # flour takes no labour: its labour value is zero
    e = economy_from_dict(d)
    assert_feasible(e, plan(e, max_rounds=300))
    d["needs"] = []
    e = economy_from_dict(d)
    result = plan(e, max_rounds=50)
    assert_feasible(e, result)
    assert json.dumps(result.to_dict())
    d = tiny_dict()
    d["labour_budget"] = 0
    e = economy_from_dict(d)
    result = plan(e, max_rounds=50)
    assert_feasible(e, result) and result.measures.weighted_fulfilment == 0


def test_need_of_zero_quantity_is_rejected():
    d = tiny_dict()
    d["needs"][1]["quantity"] = 0
    with pytest.raises(EconomyError, match=r"needs\[1\].quantity"):
        economy_from_dict(d)
