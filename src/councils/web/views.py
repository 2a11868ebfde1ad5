from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

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


def congresses(request):
    """Every federation's congresses, newest first: the navigation's way to them."""
    from councils.federation.models import Congress

    now = clock.now()
    rows = Congress.objects.select_related("federation").order_by("-starts_at", "-pk")[:100]
    federations = Council.objects.filter(kind="federation").order_by("name")
    return render(request, "web/congresses.html", {"congresses": rows, "federations": federations, "now": now})


def page_not_found(request, exception=None):
    return render(request, "web/error.html", {"status": 404, "title": _("Page not found"),
                                              "text": _("There is no page at this address. It may have moved, or the link may be mistyped.")}, status=404)


def permission_denied(request, exception=None):
    return render(request, "web/error.html", {"status": 403, "title": _("Not allowed"),
                                              "text": _("This page or act is not open to you. If you are a member, log in first.")}, status=403)


def server_error(request):
    # No database, no context processors that might fail again: a plain render of the layout.
    from django.template import loader
    from django.http import HttpResponseServerError

    template = loader.get_template("web/error_500.html")
    return HttpResponseServerError(template.render({}))


def bad_request(request, exception=None):
    return render(request, "web/error.html", {"status": 400, "title": _("Bad request"),
                                              "text": _("The request could not be understood. Go back and try again.")}, status=400)


def csrf_failure(request, reason=""):
    return render(request, "web/error.html", {
        "status": 403, "title": _("This form has expired"),
        "text": _("The form was sent without its security token: it may be older than your log-in, or cookies may be off. "
                "Go back, reload the page, and send it again.")}, status=403)
