"""The Dask backend agrees with numpy; the command line plans, writes and refuses bad files."""
import json

import numpy as np
import pytest

from councils.commands.plan import main
from councils.planning import plan, start, synthetic_economy
from councils.planning.backends import NumpyBackend


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_backend_proposals_are_identical_to_numpy(client):
    from councils.planning.dask_backend import DaskBackend
    e = synthetic_economy("small", 8)
    state = start(e)
    dask_backend = DaskBackend(e, client=client, partitions=3)
    a = NumpyBackend(e).propose(state.signal, state.scale, state.unit)
    b = dask_backend.propose(state.signal, state.scale, state.unit)
    assert np.array_equal(a.output, b.output) and np.array_equal(a.fulfilment, b.fulfilment)


def test_dask_and_numpy_plans_agree(client):
    e = synthetic_economy("tiny", 3)
    # agreement, not convergence, is under test: a hundred rounds exercise every part
    a = plan(e, max_rounds=100)
    b = plan(e, backend="dask", scheduler=client.scheduler.address, max_rounds=100)
    assert a.rounds == b.rounds
    assert np.array_equal(a.output, b.output) and np.array_equal(a.fulfilment, b.fulfilment)


def test_cli_plans_synthetic_economy_and_writes_plan_and_chart(tmp_path, capsys):
    out, chart = tmp_path / "plan.json", tmp_path / "convergence.svg"
    assert main(["--synthetic", "small", "--seed", "2", "--no-progress", "--out", str(out), "--chart", str(chart)]) == 0
    table = capsys.readouterr().out
    for label in ("rounds", "fulfilment, weighted", "largest imbalance", "labour used", "gap to optimum"):
        assert label in table
    assert json.loads(out.read_text())["converged"] is True
    assert chart.read_text().startswith("<svg")


def test_cli_reads_an_economy_file(tmp_path, capsys):
    from councils.planning.io import save_economy
    save_economy(synthetic_economy("tiny", 1), tmp_path / "e.npz")
    assert main([str(tmp_path / "e.npz"), "--aim", "maxmin", "--no-progress"]) == 0
    assert "maxmin" in capsys.readouterr().out


def test_cli_refuses_a_bad_file_naming_the_field(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"products": [{"name": "a"}], "workplaces": [], "needs": []}))
    assert main([str(bad), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "labour_budget" in err and "bad economy file" in err


@pytest.mark.parametrize("edit, field", [
    (lambda text: text.replace('"capacity": 100', '"capacity": ' + "9" * 5000), "workplaces[0].capacity"),
    (lambda text: text.replace('"quantity": 40', '"quantity": 1e308'), "needs[0].quantity"),
    (lambda text: text.replace('"inputs": {"flour": 2}', '"inputs": {"flour": 1e300}'), "workplaces[1].inputs"),
    (lambda text: text.replace('"labour_budget": 100', '"labour_budget": 1e13'), "labour_budget"),
])
def test_cli_refuses_out_of_range_numbers_naming_the_field(tmp_path, capsys, edit, field):
    # a 5,000-digit integer once ended in a traceback, a need of 1e308 or an input of 1e300 in "HiGHS failed"
    text = json.dumps({
        "format": "councils-economy", "version": 1, "products": [{"name": "flour"}, {"name": "bread"}],
        "workplaces": [{"name": "mill", "product": "flour", "labour": 1.0, "capacity": 100},
                       {"name": "bakery", "product": "bread", "labour": 0.5, "capacity": 50, "inputs": {"flour": 2}}],
        "needs": [{"council": "north", "product": "bread", "quantity": 40}], "labour_budget": 100})
    bad = tmp_path / "hostile.json"
    bad.write_text(edit(text))
    assert main([str(bad), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err and "HiGHS" not in err


def test_cli_says_not_converged_with_the_certified_gap_at_the_round_limit(capsys):
    assert main(["--synthetic", "small", "--max-rounds", "20", "--no-progress", "--no-optimum"]) == 0
    out = capsys.readouterr().out
    assert "not converged: certified gap" in out and "(converged)" not in out
