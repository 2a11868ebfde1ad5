"""`councils notify [--once | --every SECONDS]`: send the notification emails that are due.

Run it from cron (``--once``, the default) or as a long-running worker (``--every 300``).
Several copies may run at once: each notice is claimed before it is sent, so none goes out twice.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _setup(data: str | None) -> None:
    if data:
        os.environ["COUNCILS_DATA"] = str(Path(data).resolve())
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "councils.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="councils notify", description="Send the notification emails that are due.")
    parser.add_argument("--data", help="data folder (default: $COUNCILS_DATA or ./councils-data)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--once", action="store_true", help="send what is due now and exit (the default; for cron)")
    how.add_argument("--every", type=float, metavar="SECONDS", help="keep running, sending what is due every SECONDS")
    args = parser.parse_args(argv)
    if args.every is not None and args.every < 1:
        parser.error("--every needs at least 1 second")

    _setup(args.data)
    from django.db import close_old_connections

    from councils.decisions.notifications import send_due_notifications

    if args.every is None:
        print(f"{send_due_notifications()} notification(s) sent")
        return 0
    try:
        while True:
            started = time.monotonic()
            try:
                count = send_due_notifications()
                if count:
                    print(f"{count} notification(s) sent", flush=True)
            except Exception as exc:  # a database hiccup must not stop the worker
                print(f"councils notify: error: {exc}", file=sys.stderr, flush=True)
            finally:
                # A worker lives for weeks: never hold a broken or stale connection between rounds.
                close_old_connections()
            time.sleep(max(0.0, args.every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        return 0
