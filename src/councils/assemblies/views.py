from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from councils import clock
from councils.accounts import claim
from councils.adapters.pages import acts, confirm_page, form_error
from councils.assemblies import hooks, services
from councils.assemblies.forms import CouncilForm
from councils.assemblies.models import Council, Membership
from councils.assemblies.permissions import membership_of
from councils.errors import CouncilsError
from councils.record import services as record


def council_list(request):
    return render(request, "assemblies/council_list.html", {"councils": Council.objects.all()})


@login_required
def council_create(request):
    form = CouncilForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            council = services.create_council(
                request.user, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"],
                description=form.cleaned_data["description"], charter=form.charter(),
            )
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("%(name)s is founded.") % {"name": council.name})
            return redirect(council)
    return render(request, "assemblies/council_form.html", {"form": form})


def council_detail(request, slug: str):
    council = get_object_or_404(Council.objects.select_related("charter"), slug=slug)
    now = clock.now()
    hooks.settle(council, now)
    members = list(council.memberships.filter(left_at__isnull=True).select_related("member"))
    # Members a free-exit import brought who have not claimed their account yet (they count like every member).
    unclaimed = claim.unclaimed([m.member_id for m in members])
    for m in members:
        m.unclaimed = m.member_id in unclaimed
    return render(request, "assemblies/council_detail.html", {
        "council": council,
        "charter": council.charter,
        "membership": membership_of(request.user, council),
        "members": members,
        "now": now,
        "moved_to": record.moved_to(council),
        # Proposals, officers, federations: what the apps above show here (assemblies.hooks).
        **hooks.page_parts(council, request.user, now),
    })


@login_required
def council_export(request, slug: str):
    """The council's free-exit file, for its members: everything it is, with its whole record (docs/free-exit.md)."""
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse

    from councils.assemblies.exit import export_council

    council = get_object_or_404(Council, slug=slug)
    if council.is_federation or membership_of(request.user, council) is None:
        raise PermissionDenied("Only the council's members download its free-exit file.")
    response = HttpResponse(export_council(council), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{council.slug}-exit.zip"'
    return response


def council_record(request, slug: str):
    """The council's public record, newest first; "verify" recomputes its chain here and now."""
    council = get_object_or_404(Council, slug=slug)
    entries = record.entries(council).order_by("-seq")
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    report = record.verify_all([council]) if request.GET.get("verify") else None
    from councils.assemblies.record_words import in_words

    return render(request, "record/council_record.html", {"council": council, "page": page, "report": report,
                                                          "rows": in_words(page.object_list),
                                                          "witnessed": record.witnessed(council)})


@login_required
@require_POST
@acts
def join(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    result = services.join_council(request.user, council)
    if isinstance(result, Membership):
        messages.success(request, _("You are a member of %(name)s.") % {"name": council.name})
    else:
        messages.info(request, _("Your request is before the members of %(name)s: their vote closes %(voting_ends)s.") % {"name": council.name, "voting_ends": format(result.voting_ends, '%Y-%m-%d %H:%M %Z')})
    return redirect(council)


@login_required
@acts
def leave(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    if request.method != "POST":
        again = (_("You can ask to join again; the members decide by vote.") if council.charter.admission == "vote"
                 else _("You can join again later like anyone else."))
        return confirm_page(request, title=_("Leave %(name)s?") % {"name": council.name}, question=_("You leave at once; this cannot be undone."),
                            consequences=[_("Your ballots in votes still open are withdrawn."),
                                          _("Any office or delegation you hold for this council ends."), again,
                                          _("Your leaving is written to the council's public record.")],
                            button=_("Leave the council"), back=council.get_absolute_url())
    services.leave_council(request.user, council)
    messages.success(request, _("You have left %(name)s.") % {"name": council.name})
    return redirect(council)
