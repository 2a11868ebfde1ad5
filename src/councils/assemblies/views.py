from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from councils import clock
from councils.assemblies import services
from councils.assemblies.forms import CouncilForm
from councils.assemblies.models import Council, Membership
from councils.assemblies.permissions import membership_of
from councils.decisions.models import Proposal, ProposalState
from councils.decisions.services import current_officers, settle_due, visible_proposals
from councils.errors import CouncilsError
from councils.federation.services import federations_of, member_councils
from councils.federation.views import council_context as federation_context
from councils.web.views import acts, form_error


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
            messages.success(request, f"{council.name} is founded.")
            return redirect(council)
    return render(request, "assemblies/council_form.html", {"form": form})


def council_detail(request, slug: str):
    council = get_object_or_404(Council.objects.select_related("charter"), slug=slug)
    now = clock.now()
    settle_due(council, now)
    proposals = list(
        visible_proposals(request.user, council).filter(parent__isnull=True).select_related("author", "decision").order_by("-voting_ends")[:100]
    )
    for proposal in proposals:
        proposal.state_label = ProposalState(proposal.state(now)).label
    open_proposals = [p for p in proposals if p.state(now) in (ProposalState.DRAFT, ProposalState.DELIBERATION, ProposalState.VOTING)]
    decided = [p for p in proposals if p not in open_proposals]
    return render(request, "assemblies/council_detail.html", {
        "council": council,
        "charter": council.charter,
        "membership": membership_of(request.user, council),
        "members": council.memberships.filter(left_at__isnull=True).select_related("member"),
        "open_proposals": open_proposals,
        "decided": decided,
        "now": now,
        **federation_context(council, request.user, now),
        "federations": federations_of(council),
        "officers": current_officers(council, now),
        "member_councils": member_councils(council) if council.is_federation else [],
        "pending_request": request.user.is_authenticated and Proposal.objects.filter(
            council=council, kind="admission", subject_member=request.user, voting_ends__gt=now).first(),
    })


@login_required
@require_POST
@acts
def join(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    result = services.join_council(request.user, council)
    if isinstance(result, Membership):
        messages.success(request, f"You are a member of {council.name}.")
    else:
        messages.info(request, f"Your request is before the members of {council.name}: their vote closes {result.voting_ends:%Y-%m-%d %H:%M %Z}.")
    return redirect(council)


@login_required
@require_POST
@acts
def leave(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    services.leave_council(request.user, council)
    messages.success(request, f"You have left {council.name}.")
    return redirect(council)
