from __future__ import annotations

from django.shortcuts import render

from councils import clock
from councils.assemblies.models import Council
from councils.decisions.services import proposals_awaiting_ballot


def home(request):
    my_councils = []
    awaiting = []
    if request.user.is_authenticated:
        my_councils = Council.objects.filter(memberships__member=request.user, memberships__left_at__isnull=True)
        awaiting = proposals_awaiting_ballot(request.user, clock.now())
    return render(request, "web/home.html", {
        "my_councils": my_councils,
        "awaiting": awaiting,
        "recent_councils": Council.objects.order_by("-created_at")[:10],
    })
