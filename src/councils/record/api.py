"""The record as a transparency log, for anyone to verify without the server's word: each chain's signed
checkpoint, its leaves, inclusion and consistency proofs (RFC 9162), the server's key, and witnesses' cosignatures."""

from __future__ import annotations

import base64

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from councils.adapters.api import errors
from councils.errors import Invalid, NotFound
from councils.record import log, tree
from councils.record.models import Chain

router = Router(tags=["record"])


class ChainOut(Schema):
    name: str
    size: int
    checkpoint: str


class RecordOut(Schema):
    server: str
    vkey: str
    chains: list[ChainOut]


class KeyOut(Schema):
    name: str
    vkey: str


class LeavesOut(Schema):
    leaves: list[str]


class ProofOut(Schema):
    hashes: list[str]


class CosignatureIn(Schema):
    note: str
    vkey: str


class CosignatureOut(Schema):
    witness: str
    size: int


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _size(chain: str) -> int:
    try:
        return log.size_of(chain)
    except LookupError:
        raise NotFound(_("no chain %(chain)s") % {"chain": repr(chain)}) from None


@router.get("/server/key", response=KeyOut, summary="The server's verifier key (C2SP signed-note vkey)")
def server_key(request):
    return {"name": log.server_name(), "vkey": log.server_vkey()}


@router.get("/record/", response=RecordOut, summary="Every chain of the record, with its checkpoint's address")
def list_chains(request):
    chains = [{"name": c.name, "size": c.tree_size, "checkpoint": f"/api/record/{c.name}/checkpoint"}
              for c in Chain.objects.order_by("pk")]
    return {"server": log.server_name(), "vkey": log.server_vkey(), "chains": chains}


@router.get("/record/{path:chain}/checkpoint", response={200: str, **errors(404)},
            summary="The chain's latest checkpoint, signed by the server and cosigned by witnesses (text/plain)")
def checkpoint(request, chain: str):
    _size(chain)
    signed = log.checkpoint_with_cosignatures(log.latest_checkpoint(chain))
    return HttpResponse(signed, content_type="text/plain; charset=utf-8")


@router.get("/record/{path:chain}/leaves", response={200: LeavesOut, **errors(404)},
            summary=f"Leaves [start, end) of the chain: each entry's canonical JSON, base64 (at most {log.MAX_LEAVES_PAGE})")
def leaves(request, chain: str, start: int = Query(..., ge=0), end: int = Query(..., ge=0)):
    size = _size(chain)
    if not start < end <= size:
        raise Invalid(_("ask for 0 <= start < end <= %(size)s") % {"size": size}, field="end")
    end = min(end, start + log.MAX_LEAVES_PAGE)
    return {"leaves": [_b64(leaf) for leaf in log.leaves(chain, start, end)]}


@router.get("/record/{path:chain}/proof/inclusion", response={200: ProofOut, **errors(404)},
            summary="RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves")
def inclusion(request, chain: str, index: int = Query(..., ge=0), size: int = Query(..., ge=1)):
    current = _size(chain)
    if not index < size <= current:
        raise Invalid(_("ask for 0 <= index < size <= %(current)s") % {"current": current}, field="size")
    return {"hashes": [_b64(h) for h in log.inclusion_proof(chain, index, size)]}


@router.get("/record/{path:chain}/proof/consistency", response={200: ProofOut, **errors(404)},
            summary="RFC 9162 consistency proof between the trees of `first` and `second` leaves")
def consistency(request, chain: str, first: int = Query(..., ge=0), second: int = Query(..., ge=0)):
    current = _size(chain)
    if not first <= second <= current:
        raise Invalid(_("ask for 0 <= first <= second <= %(current)s") % {"current": current}, field="second")
    return {"hashes": [_b64(h) for h in log.consistency_proof(chain, first, second)]}


@router.post("/record/{path:chain}/cosignatures", response={201: CosignatureOut, **errors(404)},
             summary="A witness sends back its cosignature (C2SP tlog-cosignature) of one of this server's checkpoints")
def cosign(request, chain: str, payload: CosignatureIn):
    _size(chain)
    try:
        cosignature = log.add_cosignature(chain, payload.note, payload.vkey)
    except (ValueError, tree.TreeError) as exc:
        raise Invalid(str(exc), field="note") from None
    return Status(201, {"witness": cosignature.witness, "size": cosignature.checkpoint.size})
