"""The background worker on this suite's database (SQLite in the first CI pass, PostgreSQL in the second)."""
import os
import subprocess
import sys
import threading
import time

import pytest

from councils.economy.models import PeriodStatus


def _wait_for(predicate, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_computes_rounds_and_settles_part_votes_beside_the_application(clock, economy_world, open_period,
                                                                               vote_parts, settings):
    from councils.economy import worker
    from councils.economy.models import PlanPeriod

    stop = threading.Event()
    thread = threading.Thread(target=worker.run, kwargs={"interval": 0.05, "stop": stop}, daemon=True)
    thread.start()
    try:
        period = open_period()

        def status():
            return PlanPeriod.objects.get(pk=period.pk).status

        assert _wait_for(lambda: status() == PeriodStatus.ACCEPTANCE), status()
        period.refresh_from_db()
        assert period.rounds.count() >= 1 and period.result["converged"]
        # the members vote; when the votes close the worker settles them and the federation's vote opens
        parts = list(period.parts.select_related("vote", "council"))
        from councils.decisions.services import cast_ballot
        for part in parts:
            for membership in part.council.memberships.filter(left_at__isnull=True):
                cast_ballot(membership.member, part.vote, "yes")
        clock.set(max(p.vote.voting_ends for p in parts))
        clock.advance(seconds=1)
        assert _wait_for(lambda: status() == PeriodStatus.ADOPTION), status()
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_worker_command_makes_one_pass_and_exits(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    command = [sys.executable, "-m", "councils.cli", "--data", str(tmp_path)]
    subprocess.run([*command, "manage", "migrate", "--verbosity", "0"], check=True, env=env, timeout=180)
    done = subprocess.run([*command, "worker", "--once"], env=env, timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    bad = subprocess.run([*command, "worker", "--interval", "0"], env=env, timeout=60, capture_output=True, text=True)
    assert bad.returncode == 2 and "--interval" in bad.stderr


def _recomputed(period, settings):
    import json

    from councils.planning import plan
    from councils.planning.io import economy_from_dict

    economy = economy_from_dict(json.loads(period.economy_json))
    return plan(economy, period.aim, max_rounds=settings.COUNCILS_PLANNING_ITERATIONS)


def test_anyone_recomputes_the_plan_from_the_downloadable_economy_file(economy_world, open_period, work, settings):
    period = open_period()
    work()
    period.refresh_from_db()
    again = _recomputed(period, settings)
    assert period.result["iterations"] == again.rounds
    assert [w["units"] for w in period.result["workplaces"]] == pytest.approx(list(again.output))
    assert [n["fulfilment"] for n in period.result["needs"]] == pytest.approx(list(again.fulfilment))


def test_large_economies_run_their_councils_rules_on_dask_with_the_same_plan(economy_world, open_period, work, settings):
    settings.COUNCILS_DASK_MIN_WORKPLACES = 1  # this small economy counts as large
    period = open_period()
    work()
    period.refresh_from_db()
    assert period.status == PeriodStatus.ACCEPTANCE
    again = _recomputed(period, settings)  # the numpy backend
    assert period.result["iterations"] == again.rounds
    assert [w["units"] for w in period.result["workplaces"]] == pytest.approx(list(again.output))
