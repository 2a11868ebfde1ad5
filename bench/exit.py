"""Free exit at size: export and import of a council of --members members whose chain holds --entries entries.

    python bench/exit.py [--members 10000] [--entries 100000]

The council is founded through the services; its members and memberships are written in bulk with one record entry
each (what admitting them one by one writes), and the rest of the chain is filled with comments' entries (subjects
that are no rows). The move is recorded as an adopted move would record it. Then:

- export: ``assemblies.exit.export_council`` in this process (timed), written to a file;
- import: ``councils import FILE`` in a second installation (its own data folder and address), timed from the
  start of the process to its end (Django's start-up and the empty database's migration check included).
SQLite in temporary folders.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DESTINATION = "http://127.0.0.1:8911"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    origin = tempfile.mkdtemp(prefix="councils-bench-exit-origin-")
    os.environ["COUNCILS_DATA"] = origin
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "councils.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from councils.accounts.signing import DerivedKeyring, install_keyring

    ring = DerivedKeyring("councils-bench-exit")
    install_keyring(ring)  # the founder's acts signed by a key this bench holds
    from councils import clock
    from councils.assemblies.exit import export_council, record_move
    from councils.assemblies.models import Membership
    from councils.assemblies.services import create_council
    from councils.record.services import append_many

    began = time.perf_counter()
    user_model = get_user_model()
    founder = user_model.objects.create_user(username="founder")
    from councils.accounts.signing import _register_held_key

    with transaction.atomic():  # registered before the founding (a key made on the fly is stamped after the act)
        _register_held_key(founder, ring.private_key_for(founder), clock.now())
    council = create_council(founder, name="Big council", kind="workplace")
    now = clock.now()
    with transaction.atomic():
        users = user_model.objects.bulk_create([user_model(username=f"member{i}", password="!") for i in range(args.members)],
                                               batch_size=2000)
        memberships = Membership.objects.bulk_create([Membership(council=council, member=u, joined_at=now) for u in users],
                                                     batch_size=2000)
        append_many(council, [{"kind": "member.joined", "subject": m.subject, "state": m.record_state()}
                              for m in Membership.objects.filter(pk__in=[m.pk for m in memberships]).select_related("member")],
                    at=now)
        filler = args.entries - args.members - 4
        append_many(council, [{"kind": "note", "subject": f"note:{i}", "state": {"n": i}} for i in range(max(filler, 0))],
                    at=now)
        record_move(council, DESTINATION, now, decision=SimpleNamespace(pk=0))
    from councils.record.models import RecordEntry

    size = RecordEntry.objects.filter(chain=council.record_chain).count()
    print(f"# council of {args.members:,} members, {size:,} entries (built in {time.perf_counter() - began:.1f} s)", flush=True)

    began = time.perf_counter()
    data = export_council(council)
    export_s = time.perf_counter() - began
    file = Path(origin) / "council.zip"
    file.write_bytes(data)
    print(f"export: {export_s:.1f} s, {len(data) / 1e6:.1f} MB", flush=True)

    destination = tempfile.mkdtemp(prefix="councils-bench-exit-dest-")
    env = {**os.environ, "COUNCILS_DATA": destination, "COUNCILS_SITE_URL": DESTINATION,
           "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "councils.cli", "manage", "migrate", "--verbosity", "0"], env=env, check=True)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "councils.cli", "import", str(file)], env=env, capture_output=True,
                          text=True, check=False)
    import_s = time.perf_counter() - began
    print(f"import: {import_s:.1f} s (councils import, process start to end): {(done.stdout or done.stderr).strip()}", flush=True)
    began = time.perf_counter()
    verified = subprocess.run([sys.executable, "-m", "councils.cli", "verify"], env=env, capture_output=True, text=True,
                              check=False)
    print(f"verify on the destination: {time.perf_counter() - began:.1f} s: {(verified.stdout or verified.stderr).strip()}", flush=True)
    return 0 if done.returncode == 0 and verified.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
