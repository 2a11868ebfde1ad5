"""``councils peer``: the servers this one federates with (docs/federation.md, "Running across servers").

    councils peer add URL      fetch URL/.well-known/councils-server and pin its key (trust on first use)
    councils peer list         the peers, their keys, and messages waiting or failed
    councils peer ping NAME    queue a signed message that asks nothing, and deliver it now
    councils peer deliver      deliver what is due now (the worker does this every pass)
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str], setup) -> int:
    parser = argparse.ArgumentParser(prog="councils peer", description="Servers this one federates with.")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="fetch a server's well-known document and pin its key (trust on first use)")
    add.add_argument("url")
    sub.add_parser("list", help="the peers and their outboxes")
    ping = sub.add_parser("ping", help="send a signed message that asks nothing, and deliver it now")
    ping.add_argument("name")
    sub.add_parser("deliver", help="deliver the messages that are due now")
    args = parser.parse_args(argv)
    setup()
    from councils.errors import CouncilsError
    from councils.federation import remote
    from councils.federation.models import OutboxStatus, Peer

    try:
        if args.action == "add":
            peer, created = remote.add_peer(args.url, actor="operator")
            print(f"{'Added' if created else 'Already known'}: {peer.name} at {peer.url}")
            print(f"Pinned key: {peer.vkey}")
            print("Trust on first use: compare this key with the one its operator gives you by another channel.")
            known = [rc.council.name for rc in peer.councils.select_related("council")]
            if known:
                print("Its federations and councils known here: " + ", ".join(known))
            return 0
        if args.action == "list":
            for peer in Peer.objects.all():
                waiting = peer.outbox.filter(status=OutboxStatus.PENDING).count()
                failed = peer.outbox.filter(status=OutboxStatus.FAILED).count()
                print(f"{peer.name}\t{peer.url}\t{peer.vkey}\tfirst seen {peer.first_seen:%Y-%m-%d %H:%M} UTC\t"
                      f"{waiting} waiting, {failed} failed")
            return 0
        if args.action == "ping":
            peer = Peer.objects.filter(name=args.name).first()
            if peer is None:
                print(f"councils peer: no peer named {args.name!r} (councils peer list)", file=sys.stderr)
                return 2
            message = remote.ping(peer)
            remote.deliver_due(peers=[peer])
            message.refresh_from_db()
            print(f"{message.status}: {message.last_error or 'the peer accepted the signed message'}")
            return 0 if message.status == OutboxStatus.DELIVERED else 1
        report = remote.deliver_due()
        print(f"delivered {report.delivered}, to retry {report.retrying}, failed {report.failed}")
        return 0
    except CouncilsError as error:
        print(f"councils peer: {error}", file=sys.stderr)
        return 2
