from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from councils.assemblies.models import Council
from councils.record.models import RecordEntry
from councils.record.services import verify_all


def council_record(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    entries = RecordEntry.objects.filter(council=council).order_by("-seq")
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    report = verify_all([council]) if request.GET.get("verify") else None
    return render(request, "record/council_record.html", {"council": council, "page": page, "report": report})
