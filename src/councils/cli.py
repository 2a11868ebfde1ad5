"""The ``councils`` command line.

    councils serve [--demo]   migrate, load the demo if asked, serve with gunicorn
    councils demo             load the demo federation (once)
    councils verify           recompute every record chain; non-zero exit on the first bad entry
    councils verify --remote URL   check a server's record from outside: signed checkpoints, leaves, consistency
    councils witness URL...   follow servers' checkpoints, check consistency, cosign them
    councils keys new FILE    make your signing key in FILE (0600); with --server and --token, register it
    councils act METHOD PATH [JSON] --server URL --key FILE   send an act, signing the statement the server asks for
    councils claim URL --key FILE --username U   claim your account after your council moved (free exit)
    councils tally FILE ...   count a ballot file (see ``councils tally --help``)
    councils plan FILE ...    run the planning procedure (see ``councils plan --help``)
    councils notify           send the email notifications that are due (``--every 300`` to keep running)
    councils worker           the background worker: computes planning rounds, settles plan votes (``--once``)
    councils export COUNCIL FILE   write a council's free-exit file (docs/free-exit.md)
    councils import FILE      take in a council that decided to move here, from its free-exit file
    councils manage ARGS      Django's management commands (migrate, createsuperuser, ...)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _setup(data: str | None = None) -> None:
    if data:
        os.environ["COUNCILS_DATA"] = str(Path(data).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "councils.settings")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def cmd_serve(args) -> int:
    _setup(args.data)
    from django.conf import settings
    from django.core.management import call_command

    print(f"Data folder: {settings.DATA_DIR}")
    _migrate()
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.demo:
        _load_demo()
    bind = f"{args.host}:{args.port}"
    if not args.no_worker:
        _start_worker(args.data)
    print(f"Serving on http://{bind}  (Ctrl-C to stop)", flush=True)
    gunicorn = [
        sys.executable, "-m", "gunicorn", "councils.wsgi:application",
        "--bind", bind, "--workers", str(args.workers), "--threads", str(args.threads),
        "--access-logfile", "-", "--graceful-timeout", "10",
        # Live screens poll every two seconds: an idle keep-alive connection waits in the worker's selector, not in a
        # thread, so keep it open a little longer than the polling interval.
        "--keep-alive", "5",
    ]
    os.execv(sys.executable, gunicorn)


def _start_worker(data: str | None) -> None:
    """A planning worker beside the web server; it ends when the server does (the kernel tells it, on Linux)."""
    import signal
    import subprocess

    def die_with_parent():
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass

    command = [sys.executable, "-m", "councils.cli"] + (["--data", data] if data else []) + ["worker"]
    subprocess.Popen(command, preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
    print("Planning worker started (councils worker).", flush=True)


def cmd_worker(args) -> int:
    _setup(args.data)
    from councils.economy.worker import run

    if args.interval <= 0:
        print("councils worker: --interval must be positive", file=sys.stderr)
        return 2
    return run(interval=args.interval, once=args.once)


def _load_demo() -> None:
    from councils.demo import DEMO_PASSWORD, demo_logins, load_demo

    created = load_demo()
    print("Demo federation loaded." if created else "Demo federation already present; nothing added.")
    print(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
    for line in demo_logins():
        print(line)


def cmd_demo(args) -> int:
    _setup(args.data)
    _migrate()
    _load_demo()
    return 0


def cmd_verify(args) -> int:
    if args.remote:
        # Nothing local is read: only the server's public answers and what this verifier saw before.
        from councils.commands.remote import verify_remote

        return verify_remote(args.remote, chains=args.chain or None, state_dir=args.state, quiet=args.quiet)
    if args.chain or args.state:
        print("--chain and --state go with --remote", file=sys.stderr)
        return 2
    _setup(args.data)
    from tqdm import tqdm

    from councils.record.models import RecordEntry
    from councils.record.services import verify_all

    # A progress bar on a terminal (a million entries take most of a minute), nothing when piped.
    with tqdm(total=RecordEntry.objects.count(), unit="entry", desc="verifying", file=sys.stderr, disable=None) as bar:
        report = verify_all(progress=bar.update)
    if report.ok:
        print(f"OK: {report.chains} chains, {report.entries} entries, {report.signatures} members' signatures, "
              f"{report.rule_signatures} server-signed acts of the rules, {report.rows} recorded rows checked.")
        return 0
    print(f"BROKEN: {len(report.problems)} problem(s) in {report.chains} chains.", file=sys.stderr)
    print(f"First bad entry: {report.problems[0]}", file=sys.stderr)
    for problem in report.problems[1:20]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1


def cmd_export(args) -> int:
    _setup(args.data)
    _migrate()
    from councils.assemblies.exit import export_council
    from councils.assemblies.models import Council

    council = Council.objects.filter(slug=args.council).first()
    if council is None and args.council.isdigit():
        council = Council.objects.filter(pk=int(args.council)).first()
    if council is None:
        print(f"councils export: no council {args.council!r} (give its slug, as in /c/<slug>/)", file=sys.stderr)
        return 2
    if council.is_federation:
        print("councils export: a federation is made of its member councils and does not move", file=sys.stderr)
        return 2
    data = export_council(council)
    target = Path(args.file)
    try:
        target.write_bytes(data)
    except OSError as exc:
        print(f"councils export: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"Wrote {target} ({len(data):,} bytes): {council.name}, its rows and its record.")
    return 0


def cmd_import(args) -> int:
    _setup(args.data)
    _migrate()
    from councils.assemblies.exit import import_council
    from councils.errors import CouncilsError
    from councils.record.bundle import BundleError

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"councils import: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        arrival = import_council(data)
    except BundleError as exc:
        print(f"councils import: REFUSED, nothing written: {exc}", file=sys.stderr)
        return 1
    except CouncilsError as exc:
        print(f"councils import: REFUSED, nothing written: {exc.message}", file=sys.stderr)
        return 1
    council = arrival.council
    print(f"Imported {council.name} as /c/{council.slug}/: {arrival.rows} rows, record continued on "
          f"{council.record_chain} ({arrival.entries} arrival entries).")
    for line in arrival.dropped[:20]:
        print(f"  kept with the origin: {line}")
    return 0


def cmd_manage(args) -> int:
    _setup(args.data)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["councils manage", *args.rest])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The engines' commands parse their own arguments.
    if argv and argv[0] == "tally":
        from councils.commands.tally import main as tally_main

        return tally_main(argv[1:])
    if argv and argv[0] == "plan":
        from councils.commands.plan import main as plan_main

        return plan_main(argv[1:])
    if argv and argv[0] == "notify":
        from councils.commands.notify import main as notify_main

        return notify_main(argv[1:])
    if argv and argv[0] == "peer":
        from councils.commands.peer import main as peer_main

        data = None
        return peer_main(argv[1:], lambda: (_setup(data), _migrate()))
    if argv and argv[0] == "keys":
        from councils.commands.sign import keys_main

        return keys_main(argv[1:])
    if argv and argv[0] == "claim":
        from councils.commands.sign import claim_main

        return claim_main(argv[1:])
    if argv and argv[0] == "act":
        from councils.commands.sign import act_main

        return act_main(argv[1:])
    if argv and argv[0] == "witness":
        from councils.commands.remote import witness_main

        return witness_main(argv[1:])

    parser = argparse.ArgumentParser(prog="councils", description="Councils: federations of self-managed councils.")
    parser.add_argument("--data", help="data folder (default: $COUNCILS_DATA or ./councils-data)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate and serve the web application")
    serve.add_argument("--demo", action="store_true", help="load the demo federation (once)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--no-worker", action="store_true", help="do not start a planning worker beside the server")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run the background worker (planning rounds, plan votes)")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between passes (default 1)")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("demo", help="load the demo federation (once)").set_defaults(func=cmd_demo)
    verify = sub.add_parser("verify", help="verify every council's record (here, or a server's with --remote)")
    verify.add_argument("--remote", metavar="URL", help="verify this server's public record from outside")
    verify.add_argument("--chain", action="append", metavar="NAME", help="only this chain (with --remote; repeatable)")
    verify.add_argument("--state", type=Path, default=None,
                        help="where checkpoints seen before are kept (with --remote; default ~/.local/state/councils)")
    verify.add_argument("--quiet", action="store_true", help="no progress bar")
    verify.set_defaults(func=cmd_verify)
    sub.add_parser("witness", help="witness servers' checkpoints (councils witness --help)")
    sub.add_parser("peer", help="servers this one federates with (councils peer --help)")
    sub.add_parser("keys", help="make and register your signing key (councils keys new --help)")
    sub.add_parser("act", help="send an act to a server, signed with your key (councils act --help)")
    sub.add_parser("claim", help="claim your account on the server your council moved to (councils claim --help)")
    sub.add_parser("tally", help="count a ballot file (councils tally --help)")
    sub.add_parser("plan", help="run the planning procedure (councils plan --help)")
    sub.add_parser("notify", help="send due email notifications (councils notify --help)")
    export = sub.add_parser("export", help="write a council's free-exit file (a zip: docs/free-exit.md)")
    export.add_argument("council", help="the council's slug")
    export.add_argument("file", help="the file to write")
    export.set_defaults(func=cmd_export)
    imp = sub.add_parser("import", help="take in a council that decided to move here, from its free-exit file")
    imp.add_argument("file", help="the council's free-exit file")
    imp.set_defaults(func=cmd_import)
    manage = sub.add_parser("manage", help="Django management commands")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
