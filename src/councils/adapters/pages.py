"""Helpers for the server-rendered pages of every app."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect

from councils.errors import CouncilsError


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
