"""The two public doors of federation across servers: who this server is, and its inbox for peers' messages."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from councils.federation import remote


@require_GET
def well_known(request):
    """``GET /.well-known/councils-server``: name, base URL, Ed25519 key (signed-note vkey), inbox, federations."""
    return JsonResponse(remote.server_document())


@csrf_exempt  # a peer's signed message, not a browser's form: the RFC 9421 signature is the authentication
@never_cache
def inbox(request):
    """``POST /api/federation/inbox``: a signed message from a peer server (docs/protocol.md)."""
    if request.method != "POST":
        return JsonResponse({"detail": "the inbox takes signed POST requests from peer servers", "code": "method"},
                            status=405, headers={"Allow": "POST"})
    status, answer = remote.receive("POST", request.build_absolute_uri(), request.headers, request.body)
    return JsonResponse(answer, status=status)


@require_GET
def servers(request):
    """This server's name and key, its peers, and the messages that cannot be delivered."""
    from councils.federation.models import OutboxMessage, OutboxStatus, Peer

    return render(request, "federation/servers.html", {
        "me": remote.server_document(), "peers": Peer.objects.all(), "failed": remote.undeliverable()[:100],
        "waiting": OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count()})
