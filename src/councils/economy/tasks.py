"""The background worker's tasks, kept in the database's own task queue (django-tasks-db)."""
from __future__ import annotations

from django_tasks import task


@task()
def advance_period(period_id: int) -> str:
    from councils.economy.services import advance

    return advance(period_id)
