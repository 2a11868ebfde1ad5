from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from councils import clock
from councils.assemblies.models import Council
from councils.assemblies.permissions import membership_of
from councils.decisions import services
from councils.decisions.forms import BallotForm, CommentForm, ProposalForm
from councils.decisions.models import Proposal, ProposalState
from councils.errors import CouncilsError, Invalid
from councils.web.views import acts, form_error


@login_required
def proposal_create(request, slug: str):
    council = get_object_or_404(Council.objects.select_related("charter"), slug=slug)
    now = timezone.localtime(clock.now()).replace(microsecond=0)
    initial = {
        "deliberation_ends": now + council.charter.deliberation_period,
        "voting_ends": now + council.charter.deliberation_period + council.charter.voting_period,
    }
    form = ProposalForm(request.POST or None, initial=initial, council=council)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.create_proposal(
                request.user, council, title=data["title"], body=data["body"], kind=data["kind"],
                deliberation_ends=data["deliberation_ends"], voting_ends=data["voting_ends"],
                subject_member=data["subject_member"], federation=data["federation"],
            )
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Your proposal is before the council.")
            return redirect(proposal)
    elif request.method == "GET" and not membership_of(request.user, council):
        messages.error(request, f"Only members of {council.name} may make proposals.")
        return redirect(council)
    return render(request, "decisions/proposal_form.html", {"form": form, "council": council})


def _get_proposal(slug: str, pk: int) -> Proposal:
    return get_object_or_404(
        Proposal.objects.select_related("council", "author", "subject_member", "federation"), pk=pk, council__slug=slug
    )


def proposal_detail(request, slug: str, pk: int):
    proposal = _get_proposal(slug, pk)
    now = clock.now()
    decision = services.get_decision(proposal, now)
    state = proposal.state(now)
    my_ballot = services.ballot_of(request.user, proposal)
    return render(request, "decisions/proposal_detail.html", {
        "proposal": proposal,
        "council": proposal.council,
        "state": state,
        "decision": decision,
        "membership": membership_of(request.user, proposal.council),
        "my_ballot": my_ballot,
        "ballot_form": BallotForm(initial={"choice": my_ballot.choice if my_ballot else None}),
        "comment_form": CommentForm(),
        "comments": proposal.comments.select_related("author"),
        "ballots": proposal.ballots.select_related("voter").order_by("voter__username"),
        "counts": services.current_counts(proposal),
        "now": now,
    })


@login_required
@require_POST
@acts
def vote(request, slug: str, pk: int):
    proposal = _get_proposal(slug, pk)
    form = BallotForm(request.POST)
    if not form.is_valid():
        raise Invalid("Choose yes, no or abstain.", field="choice")
    ballot = services.cast_ballot(request.user, proposal, form.cleaned_data["choice"])
    messages.success(request, f"Your vote is recorded: {ballot.get_choice_display()}. You may change it until voting ends.")
    return redirect(proposal)


@login_required
@require_POST
@acts
def comment(request, slug: str, pk: int):
    proposal = _get_proposal(slug, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        raise Invalid("A comment cannot be empty.", field="body")
    services.add_comment(request.user, proposal, form.cleaned_data["body"])
    return redirect(proposal)
