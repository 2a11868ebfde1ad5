"""Federation pages: the tree of councils, proposals and mandates, delegates and what they did, petitions and recall.

Adapters only: every act goes through ``federation.services`` or ``federation.petitions``.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from councils import clock
from councils.assemblies.models import Council
from councils.assemblies.permissions import membership_of
from councils.decisions.models import Decision, Proposal
from councils.decisions.services import settle_due
from councils.errors import CouncilsError, Invalid
from councils.federation import petitions, services
from councils.federation.services import federation_proposal_kinds
from councils.federation.forms import FederationProposalForm, FreeVoteForm, PetitionForm, RecallForm
from councils.federation.models import Congress, Delegate, FederationBallot, Petition, RecallPetition
from councils.federation.tree import build_tree, federation_tree_svg
from councils.adapters.pages import acts, confirm_page, form_error
from councils.federation.models import FederationKind
from django.utils.translation import gettext as _

DEMAND_KIND_OF = {"convocation": FederationKind.CONVOCATION, "cancel_congress": FederationKind.CANCEL_CONGRESS,
                  "referendum": FederationKind.REFERENDUM_DEMAND}


# ----- reading helpers, shared with the API -------------------------------------------------


def ballot_summary(ballot: FederationBallot, labels: dict[int, str] | None = None) -> str:
    """How a council's vote was cast, in words."""
    if ballot.ranking_json:
        labels = labels if labels is not None else {o.pk: o.label for o in ballot.proposal.options.all()}
        groups = json.loads(ballot.ranking_json)
        return " > ".join(" = ".join(labels.get(i, "?") for i in group) for group in groups) or _("no preference")
    parts = [f"{name} {value:g}" for name, value in (("yes", ballot.yes), ("no", ballot.no), ("abstain", ballot.abstain)) if value]
    return ", ".join(parts) or "abstain"


def mandate_progress(proposal: Proposal, now) -> dict:
    """How many member councils have cast their vote (mandated or free), against how many are members."""
    members = list(services.member_councils(proposal.council, now))
    cast = FederationBallot.objects.filter(proposal=proposal, council__in=members).count()
    return {"cast": cast, "councils": len(members), "mandates_open": proposal.mandates.filter(decision__isnull=True).count()}


def petition_rows(federation: Council, now, user=None) -> list[dict]:
    rows = []
    base = services.base_member_ids(federation, now) if getattr(user, "is_authenticated", False) else set()
    for petition in Petition.objects.filter(federation=federation).select_related("opened_by", "result"):
        progress = petitions.progress(petition, now)
        rows.append({
            "petition": petition, "progress": progress, "can_sign": user is not None and user.pk in base
            and petition.kind == "referendum" and petition.fulfilled_at is None
            and not petition.signatures.filter(member_id=user.pk).exists(),
            "backing": [d.council for d in petition.demands.select_related("council")],
        })
    return rows


def recall_rows(delegate: Delegate, user, now) -> list[dict]:
    rows = []
    member = membership_of(user, delegate.council) is not None
    for petition in delegate.recall_petitions.select_related("opened_by", "vote").order_by("-opened_at"):
        signed, needed = services.recall_progress(petition, now)
        rows.append({"petition": petition, "signed": signed, "needed": needed,
                     "can_sign": member and petition.vote_id is None and not petition.signatures.filter(member_id=user.pk).exists()})
    return rows


def _ballot_rows(ballots) -> list[dict]:
    return [{"ballot": b, "how": ballot_summary(b)} for b in ballots]


def council_context(council: Council, user, now) -> dict:
    """What the council page shows of federations: for a federation its whole picture, for a base council its delegates."""
    if council.is_federation:
        return {"federation_page": federation_context(council, user, now)}
    federations = list(services.federations_of(council))
    delegations = [{"federation": f, "delegates": list(services.current_delegates(council, f, now))} for f in federations]
    ballots = FederationBallot.objects.filter(council=council).select_related(
        "proposal__council", "delegate", "mandate__proposal").order_by("-cast_at")[:50]
    return {"federation_page": {
        "base": True, "delegations": delegations, "ballots": _ballot_rows(ballots),
        "is_member": membership_of(user, council) is not None,
    }} if federations or ballots else {}


def council_page_part(council: Council, user, now) -> dict:
    """What a council's page shows of federations (registered in ``assemblies.hooks``)."""
    from councils.federation import remote

    return {**council_context(council, user, now), "federations": services.federations_of(council),
            "member_councils": services.member_councils(council).select_related("remote__peer") if council.is_federation else [],
            "servers_page": {"home": remote.remote_of(council), "messages": remote.messages_of(council)}}


def proposal_page_part(proposal: Proposal, user, now) -> dict:
    """What a proposal's page shows of the federation (registered in ``decisions.kinds``): also, for a federation's own
    decision, what a referendum that overruled it undid, or the way to ask for one."""
    part = {"federation_info": proposal_context(proposal, user, now)}
    decision = getattr(proposal, "decision", None) if proposal.council.is_federation else None
    if decision is not None:
        part["overruling"] = petitions.overruling_of(decision)
        part["referendum_target"] = part["overruling"] is None and bool(petitions.referendum_targets(proposal.council, only=decision))
    return part


def federation_context(federation: Council, user, now) -> dict:
    charter = services.charter_of(federation)
    tree = build_tree(federation, now)
    open_proposals = [
        {"proposal": p, "progress": mandate_progress(p, now)}
        for p in Proposal.objects.filter(council=federation, kind__in=federation_proposal_kinds(), published_at__isnull=False,
                                         withdrawn_at__isnull=True, voting_ends__gt=now).order_by("voting_ends")
    ]
    my_delegations = list(services.delegations_of(user, now).filter(federation=federation)) if getattr(user, "is_authenticated", False) else []
    member_of = [] if not getattr(user, "is_authenticated", False) else [
        c for c in services.member_councils(federation, now) if not c.is_federation and membership_of(user, c)]
    return {
        "base": False, "charter": charter, "tree_svg": federation_tree_svg(federation, now, tree), "rows": tree.children,
        "open_proposals": open_proposals, "petitions": petition_rows(federation, now, user),
        "decided": Proposal.objects.filter(council=federation, kind__in=federation_proposal_kinds(), decision__isnull=False)
        .select_related("decision").order_by("-voting_ends")[:20],
        "my_delegations": my_delegations, "my_councils": member_of, "petition_kinds": Petition.KINDS,
        "demand_kind_of": DEMAND_KIND_OF, "recalls": federation_recall_rows(federation, user, now),
        "congresses": Congress.objects.filter(federation=federation).order_by("-pk")[:10],
    }


def federation_recall_rows(federation: Council, user, now) -> list[dict]:
    """Recall petitions against the federation's delegates that are gathering signatures or whose vote is open:
    the federation's members see who may lose their seat, and why."""
    rows = []
    open_petitions = RecallPetition.objects.filter(delegate__federation=federation).filter(
        Q(vote__isnull=True) | Q(vote__decision__isnull=True)).select_related("delegate__member", "delegate__council", "opened_by", "vote")
    for petition in open_petitions.filter(delegate__ended_at__isnull=True).order_by("-opened_at"):
        for row in recall_rows(petition.delegate, user, now):
            if row["petition"].pk == petition.pk:
                rows.append({**row, "petition": petition})
    return rows


# ----- pages ------------------------------------------------------------------------------


def delegate_detail(request, pk: int):
    delegate = get_object_or_404(Delegate.objects.select_related("council", "federation", "member", "elected_by__proposal"), pk=pk)
    now = clock.now()
    settle_due(delegate.council, now)
    ballots = FederationBallot.objects.filter(council=delegate.council, delegate=delegate.member,
                                              proposal__council=delegate.federation, cast_at__gte=delegate.starts_at)
    if delegate.ended_at:
        ballots = ballots.filter(cast_at__lte=delegate.ended_at)
    ballots = ballots.select_related("proposal", "mandate__proposal").order_by("-cast_at")
    is_member = membership_of(request.user, delegate.council) is not None
    return render(request, "federation/delegate_detail.html", {
        "delegate": delegate, "active": delegate.active(now), "ballots": _ballot_rows(ballots), "now": now,
        "recalls": recall_rows(delegate, request.user, now), "is_member": is_member,
        "can_open_recall": is_member and delegate.active(now) and not delegate.recall_petitions.filter(
            Q(vote__isnull=True) | Q(vote__decision__isnull=True)).exists(),
        "election": delegate.elected_by.proposal,
    })


def _federation(slug: str) -> Council:
    federation = get_object_or_404(Council, slug=slug)
    if not federation.is_federation:
        raise Http404(_("not a federation"))
    return federation


@login_required
def federation_proposal_create(request, slug: str):
    federation = _federation(slug)
    charter = services.charter_of(federation)
    form = FederationProposalForm(request.POST or None, charter=charter)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.create_federation_proposal(
                request.user, federation, title=data["title"], body=data["body"], matter=data["matter"], kind=data["kind"],
                decision_method=data["decision_method"], options=form.lines(data["options"]) or None,
                competences=form.lines(data["competences"]) if data["kind"] == FederationKind.COMPETENCES else None,
                payload=form.charter_changes() if data["kind"] == FederationKind.FEDERATION_CHARTER else None,
            )
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your question is sent down to every member council for its mandate."))
            return redirect(proposal)
    elif request.method == "GET" and not services.delegations_of(request.user).filter(federation=federation).exists():
        messages.error(request, _("Only delegates of %(name)s's member councils put questions to it.") % {"name": federation.name})
        return redirect(federation)
    return render(request, "federation/proposal_form.html", {"form": form, "federation": federation})


@login_required
@require_POST
@acts
def free_vote(request, slug: str, pk: int):
    proposal = get_object_or_404(Proposal, pk=pk, council__slug=slug)
    if proposal.is_ranked:
        ranks = {}
        for option in proposal.options.values_list("pk", flat=True):
            value = request.POST.get(f"rank_{option}", "")
            if value:
                try:
                    ranks.setdefault(int(value), []).append(option)
                except ValueError:
                    raise Invalid(_("a rank is a number"), field="ranking") from None
        vote = {"ranking": [ranks[r] for r in sorted(ranks)]}
    else:
        form = FreeVoteForm(request.POST)
        if not form.is_valid() or not form.cleaned_data["choice"]:
            raise Invalid(_("Choose yes, no or abstain."), field="choice")
        vote = form.cleaned_data["choice"]
    services.cast_free_vote(request.user, proposal, vote)
    messages.success(request, _("Your vote is cast and published to your council."))
    return redirect(proposal)


@login_required
def petition_create(request, slug: str):
    federation = _federation(slug)
    form = PetitionForm(request.POST or None, initial={"kind": request.GET.get("kind", "convocation"),
                                                       "target": request.GET.get("target")}, federation=federation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            target = congress = None
            if data["target"]:
                target = Proposal.objects.filter(pk=data["target"]).first()
                if target is None:
                    raise Invalid(_("no such decision"), field="target")
            if data["congress"]:
                congress = Congress.objects.filter(pk=data["congress"]).first()
                if congress is None:
                    raise Invalid(_("no such congress"), field="congress")
            petitions.open_petition(request.user, federation, kind=data["kind"], title=data["title"], body=data["body"],
                                    target=target, congress=congress)
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The petition is open: member councils back it by their own decisions."))
            return redirect(reverse("council", args=[federation.slug]) + "#petitions-h")
    return render(request, "federation/petition_form.html", {"form": form, "federation": federation})


@login_required
@acts
def petition_sign(request, slug: str, pk: int):
    petition = get_object_or_404(Petition, pk=pk, federation__slug=slug)
    if request.method != "POST":
        return confirm_page(request, title=_("Sign “%(title)s”?") % {"title": petition.title}, question=_("A signature cannot be taken back."),
                            consequences=[_("Your name is added to the petition and to the federation's public record.")],
                            button=_("Sign the petition"), back=reverse("council", args=[slug]) + "#petitions-h", danger=False)
    petitions.sign_petition(request.user, petition)
    messages.success(request, _("You signed the petition."))
    return redirect(reverse("council", args=[slug]) + "#petitions-h")


@login_required
@acts
def recall_open(request, pk: int):
    delegate = get_object_or_404(Delegate.objects.select_related("member", "council", "federation"), pk=pk)
    form = RecallForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.open_recall_petition(request.user, delegate, form.cleaned_data["reason"])
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The recall petition is open, with your signature."))
            return redirect("delegate", pk=delegate.pk)
    return confirm_page(
        request, title=_("Open a recall petition against %(username)s?") % {"username": delegate.member.username},
        question=_("Opening it cannot be undone, and it carries your signature."),
        consequences=[_("The members of %(name)s see your name and your reason, and may sign it.") % {"name": delegate.council.name},
                      _("When enough of them sign (the charter's threshold), the recall vote opens by itself; on a majority %(username)s loses the seat at once.") % {"username": delegate.member.username},
                      _("The petition and your reason are written to the council's public record.")],
        button=_("Open the recall petition"), back=reverse("delegate", args=[delegate.pk]), form=form)


@login_required
@acts
def recall_sign(request, pk: int):
    petition = get_object_or_404(RecallPetition.objects.select_related("delegate__member", "opened_by"), pk=pk)
    if request.method != "POST":
        lines = [_("%(username)s's reason: “%(reason)s”") % {"username": petition.opened_by.username, "reason": petition.reason} if petition.reason else
                 _("%(username)s gave no reason (the petition is older than reasons).") % {"username": petition.opened_by.username},
                 _("At the charter's threshold the recall vote opens by itself.")]
        return confirm_page(request, title=_("Sign the recall of %(username)s?") % {"username": petition.delegate.member.username},
                            question=_("A signature cannot be taken back."), consequences=lines,
                            button=_("Sign the recall petition"), back=reverse("delegate", args=[petition.delegate_id]))
    services.sign_recall(request.user, petition)
    petition.refresh_from_db()
    messages.success(request, _("You signed the recall petition. It reached the threshold: the recall vote is open.")
                     if petition.vote_id else _("You signed the recall petition."))
    return redirect("delegate", pk=petition.delegate_id)


def proposal_context(proposal: Proposal, user, now) -> dict | None:
    """What a proposal's page shows of the federation: a mandate's target and carrier, a federation proposal's councils' votes."""
    if proposal.mandate_for_id is not None:
        target = proposal.mandate_for
        council, federation = proposal.council, target.council
        ballot = FederationBallot.objects.filter(proposal=target, council=council).select_related("delegate").first()
        return {
            "target": target, "delegates": list(services.current_delegates(council, federation, now)),
            "weight": services.weight_of(federation, council, now), "split": services.charter_of(federation).mandate_split,
            "carried": {"ballot": ballot, "how": ballot_summary(ballot)} if ballot else None,
        }
    if proposal.kind not in federation_proposal_kinds() or not proposal.council.is_federation:
        return None
    free_delegate = None
    if getattr(user, "is_authenticated", False):
        free_delegate = next((d for d in services.delegations_of(user, now).filter(federation=proposal.council)
                              if d.council.charter.mandate == "free"), None)
    ballots = proposal.federation_ballots.select_related("council", "delegate", "mandate__proposal").order_by("council__name")
    return {
        "is_federation_proposal": True, "progress": mandate_progress(proposal, now), "ballots": _ballot_rows(ballots),
        "mandates": proposal.mandates.select_related("council").order_by("council__name"), "free_delegate": free_delegate,
        "voting_open": proposal.published_at is not None and not proposal.withdrawn_at and now < proposal.voting_ends,
        "choices": [("yes", _("Yes")), ("no", _("No")), ("abstain", _("Abstain"))],
    }
