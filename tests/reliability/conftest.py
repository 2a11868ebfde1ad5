"""CI runs the suite twice (SQLite, then PostgreSQL). The fault tests do not use the suite's database but
start their own server and database, so running both in both passes would only double their time: each
runs in the pass of its own database, and a local run (no CI) runs both. Deselected, not skipped: CI
allows no skips."""

import os

import pytest

FAULT_TESTS = {
    "test_server_killed_with_sigkill_mid_load_loses_and_doubles_nothing_on_sqlite": "sqlite",
    "test_database_stopped_at_once_mid_load_loses_and_doubles_nothing_on_postgresql": "postgres",
}


def _suite_database() -> str:
    return "postgres" if os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")) else "sqlite"


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("CI"):
        return
    keep, drop = [], []
    for item in items:
        wanted = FAULT_TESTS.get(getattr(item, "originalname", item.name))
        (drop if wanted and wanted != _suite_database() else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
