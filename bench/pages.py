"""Server time of the pages people open most, with the demo data: the home page and a proposal's page.

    PYTHONPATH=src python bench/pages.py                    # loads the demo into a temporary folder first (minutes)
    PYTHONPATH=src python bench/pages.py --data FOLDER      # a folder where `councils demo` already ran

For the home page and the page of the proposal with the most ballots (a federation's vote in the demo), read
anonymously and by a logged-in demo member, it prints the SQL queries per page and, over --repeat requests through
Django's test client (no network, no web server), the p50 and p95 of the wall time and of this process's CPU time
(on a shared machine wall time also counts the time other processes held the CPU).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a data folder with the demo loaded (default: a new one, loaded now)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--member", default="ana", help="the demo member who reads logged in")
    args = parser.parse_args()
    os.environ["COUNCILS_DATA"] = args.data or tempfile.mkdtemp(prefix="councils-pages-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "councils.settings"
    import django

    django.setup()
    from django.conf import settings

    # No collectstatic here: plain static storage, as the test settings do.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from councils.decisions.models import Proposal

    if not args.data:
        from councils.demo import load_demo

        call_command("migrate", verbosity=0)
        load_demo()
    proposal = Proposal.objects.annotate(n=Count("ballots")).order_by("-n", "pk").select_related("council").first()
    pages = {"home": "/", f"proposal {proposal.pk} ({proposal.n} ballots)": f"/c/{proposal.council.slug}/p/{proposal.pk}/"}
    print(f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3]) if Path('/proc/loadavg').exists() else 'n/a'}")
    print("| page | reader | queries | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for reader in (None, args.member):
        client = Client()
        if reader:
            client.force_login(get_user_model().objects.get(username=reader))
        for name, url in pages.items():
            for _ in range(3):
                answer = client.get(url)
                assert answer.status_code == 200, (url, answer.status_code)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            walls, cpus = [], []
            for _ in range(args.repeat):
                began, cpu = time.perf_counter(), time.process_time()
                client.get(url)
                walls.append(time.perf_counter() - began)
                cpus.append(time.process_time() - cpu)
            print(f"| {name} | {reader or 'anonymous'} | {len(queries.captured_queries)} | "
                  f"{statistics.median(walls) * 1000:.1f} | {quantile(walls, .95) * 1000:.1f} | "
                  f"{statistics.median(cpus) * 1000:.1f} | {quantile(cpus, .95) * 1000:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
