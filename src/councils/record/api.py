from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from councils.assemblies.models import Council
from councils.record.models import RecordEntry
from councils.record.services import verify_all
from councils.schemas import errors

router = Router(tags=["record"])


class EntryOut(Schema):
    chain: str
    seq: int
    at: str
    actor: str | None
    kind: str
    subject: str
    data: dict
    prev_hash: str
    hash: str


class VerifyOut(Schema):
    chain: str
    entries: int
    ok: bool
    problems: list[str]


@router.get("/councils/{slug}/record", response={200: list[EntryOut], **errors(404)},
            summary="The council's public record, oldest first")
def list_entries(request, slug: str, after: int = Query(-1, ge=-1, description="only entries after this sequence number"),
                 limit: int = Query(500, ge=1, le=5000)):
    council = get_object_or_404(Council, slug=slug)
    rows = RecordEntry.objects.filter(council=council, seq__gt=after).order_by("seq")[:limit]
    return [row.as_entry().to_dict() for row in rows]


@router.get("/councils/{slug}/record/verify", response={200: VerifyOut, **errors(404)}, summary="Recompute the chain")
def verify(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    report = verify_all([council])
    return {"chain": f"council/{council.pk}", "entries": report.entries, "ok": report.ok,
            "problems": [str(p) for p in report.problems]}
