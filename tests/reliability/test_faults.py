"""Faults in the middle of the load: every acknowledged ballot is present exactly once, no unacknowledged
ballot is half-written, and `councils verify` passes.

The harness is bench/load.py's (its full run is the load benchmark). Here it runs briefly: clients cast,
change and re-cast ballots with idempotency keys while

  * the server (gunicorn's master and every worker) is killed with SIGKILL and started again, on SQLite;
  * the database, a throw-away PostgreSQL cluster of the test's own (never the machine's), is stopped
    at once ("immediate", as a power cut) and started again, and so is the server.

Clients retry what was not acknowledged with the same key until it is.

Each test runs where the suite's database is its own (see conftest.py): CI's SQLite pass kills the server
on SQLite, its PostgreSQL pass stops the database; a plain local run (SQLite) runs both.
"""

import asyncio
import concurrent.futures
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MEMBERS, CLIENTS, SECONDS = 40, 8, 12.0


def harness():
    spec = importlib.util.spec_from_file_location("councils_bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _missing(reason):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the fault tests)")
    pytest.skip(reason)


def run_with_fault(load_module, server, env, fault) -> dict:
    world = load_module.run_django(load_module.SETUP, env, str(MEMBERS))
    load = load_module.Load(world, server.url, clients=CLIENTS, seconds=SECONDS, retry_for=90, resend_share=0.05)
    problems = []

    before_recovery = []

    def inject():
        try:
            time.sleep(SECONDS / 4)
            # On a busy machine the restart can take longer than the rest of the load: the clients go on until the
            # fault is over and for a while after it, so "they went on after the restart" is seen, not left to timing.
            load.end = float("inf")
            fault()
            before_recovery.append(len(load.latencies))
            load.end = time.monotonic() + SECONDS / 2
        except Exception as exc:  # reported below: a failed fault must fail the test
            problems.append(exc)

    thread = threading.Thread(target=inject)
    thread.start()
    # The clients' event loop runs in a thread of its own: the browser tests' Playwright session may hold
    # a running loop in this one, and asyncio.run refuses to nest.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, load.run()).result()
    thread.join(120)
    assert not problems, problems
    found = load_module.run_django(load_module.CHECK, env, json.dumps([world["yes_no"], world["ranked"]]))
    result = load.check(found)
    result["after_recovery"] = result["acknowledged"] - before_recovery[0]
    return result


def assert_exactly_once(result, verified):
    # the clients went on after the restart
    assert result["acknowledged"] >= 5 and result["after_recovery"] > 0, json.dumps(result, default=str)[:3000]
    assert result["lost"] == 0 and result["doubled"] == 0, result["problems"]
    assert result["unresolved"] == 0 and result["refused"] == 0, result
    assert result["resends"] == result["resends_replayed"], result
    assert verified.returncode == 0, verified.stderr


def test_server_killed_with_sigkill_mid_load_loses_and_doubles_nothing_on_sqlite(tmp_path):
    load_module = harness()
    data = tmp_path / "data"
    env = load_module.server_env(data)
    server = load_module.Server(data, load_module.free_port(), env, workers=2, threads=4)
    server.start()

    def kill_and_restart():
        server.kill()
        time.sleep(0.5)
        server.start()

    try:
        result = run_with_fault(load_module, server, env, kill_and_restart)
    finally:
        server.stop()
    assert result["errors"], "the kill should have cost the clients some requests"
    assert_exactly_once(result, load_module.verify(env))


def test_database_stopped_at_once_mid_load_loses_and_doubles_nothing_on_postgresql(tmp_path, request):
    load_module = harness()
    if load_module.postgres_bin() is None:
        _missing("PostgreSQL's server binaries are not installed (apt-get install -y postgresql)")
    # Outside pytest's private tmp folder: the cluster runs as the postgres user, who must reach it.
    root = Path(tempfile.mkdtemp(prefix="councils-pg-"))
    os.chmod(root, 0o755)
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    cluster = load_module.PostgresCluster(root / "cluster")
    try:
        cluster.init()
        cluster.start()
    except subprocess.CalledProcessError as exc:
        _missing(f"cannot start a throw-away PostgreSQL cluster here: {exc.stderr or exc}")
    data = tmp_path / "data"
    env = load_module.server_env(data, cluster.url)
    server = load_module.Server(data, load_module.free_port(), env, workers=2, threads=4)
    try:
        server.start()

        def crash_database_and_server():
            cluster.crash()
            time.sleep(0.5)
            cluster.start()
            # The workers also die mid-request while the database is away.
            server.kill()
            server.start()

        result = run_with_fault(load_module, server, env, crash_database_and_server)
        server.stop()
        assert result["errors"], "the crash should have cost the clients some requests"
        assert_exactly_once(result, load_module.verify(env))
    finally:
        server.stop()
        cluster.stop()
