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


def confirm_page(request, *, title: str, question: str, consequences: list[str], button: str, back: str, form=None,
                 danger: bool = True):
    """The second step of an act that cannot be undone: the act's own URL answers GET with this page, which says what
    will happen and posts to that same URL. No JavaScript needed; a form (a reason) may go with it."""
    from django.shortcuts import render

    return render(request, "web/confirm.html", {
        "title": title, "question": question, "consequences": consequences, "button": button, "back": back,
        "form": form, "danger": danger,
    })
