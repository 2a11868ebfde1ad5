"""The background worker: `councils worker`.

Acts that call for computation (a period opening, the last revision of a
round) put a task in the queue in their own transaction. Deadlines need no
task of their own: each pass the worker looks for periods whose next step is
due (a round's revision window over, a part vote or the adoption vote closed)
and queues them. Tasks are taken with SELECT ... FOR UPDATE SKIP LOCKED on
PostgreSQL and under SQLite's exclusive write lock, so several workers can run.
"""
from __future__ import annotations

import logging
import os
import signal
import socket

from django.db import close_old_connections

logger = logging.getLogger("councils.worker")
TASK_PATH = "councils.economy.tasks.advance_period"


def sweep() -> int:
    """Queue every period whose next step is due and has no task waiting for it."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.compat import TaskResultStatus

    from councils.economy.services import due_periods
    from councils.economy.tasks import advance_period

    waiting = {tuple(r["args"]) for r in DBTaskResult.objects.filter(
        task_path=TASK_PATH, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).values_list("args_kwargs", flat=True)}
    queued = 0
    for period_id in due_periods():
        if (period_id,) not in waiting:
            advance_period.enqueue(period_id)
            queued += 1
    return queued


def _worker(worker_id: str):
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                  max_tasks=None, worker_id=worker_id, excluded_queue_names=[])


def run_ready(worker_id: str | None = None) -> int:
    """Run every queued task that is ready, in this process. Returns how many ran."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"[:64]
    worker = _worker(worker_id)
    ran = 0
    while True:
        tasks = DBTaskResult.objects.ready().filter(backend_name="default")
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(worker_id)
        if task_result is None:
            return ran
        worker.run_task(task_result)
        if task_result.status == "FAILED":
            logger.error("task %s failed: %s", task_result.task_path, task_result.traceback)
        ran += 1


def work_once() -> int:
    """One pass: queue what is due, then run what is queued (twice, for the steps the first pass queued)."""
    from councils.economy.services import settle_due_federation_votes

    from councils.federation.remote import deliver_due

    settle_due_federation_votes()
    deliver_due()  # messages to peer servers, written by the acts (and settlements) before
    sweep()
    ran = run_ready()
    ran += run_ready() if sweep() else 0
    return ran


def run(*, interval: float = 1.0, once: bool = False, stop=None) -> int:
    """Pass after pass until SIGTERM/SIGINT (or ``stop``, a threading.Event, when run in a thread)."""
    import threading

    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    logger.info("councils worker started (every %.1f s)", interval)
    while not stop.is_set():
        close_old_connections()
        try:
            work_once()
        except Exception:  # a database restart must not end the worker: log and try again next pass
            logger.exception("worker pass failed")
        close_old_connections()
        if once:
            break
        stop.wait(interval)
    return 0
