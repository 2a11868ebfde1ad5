from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render

from councils import clock
from councils.assemblies.models import Council
from councils.decisions.services import proposals_awaiting_ballot
from councils.errors import CouncilsError


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


def acts(view):
    """For POST views that call one service: a refusal becomes a message on the page it came from."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except CouncilsError as exc:
            messages.error(request, exc.message)
            return redirect(request.META.get("HTTP_REFERER") or "home")

    return wrapper


def form_error(form, exc: CouncilsError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
