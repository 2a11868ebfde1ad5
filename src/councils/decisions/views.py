from __future__ import annotations

import difflib

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from councils import clock
from councils.assemblies.models import Council, DecisionMethod
from councils.assemblies.permissions import membership_of
from councils.decisions import kinds, services
from councils.decisions.ballots import ballots_for_display
from councils.decisions.exports import FORMATS, export_ballots
from councils.decisions.forms import (
    AmendmentForm,
    CharterChangeForm,
    CommentForm,
    HideForm,
    MinorityReportForm,
    ProposalForm,
    ReceiptForm,
    ScheduleForm,
)
from django.db.models import Q

from councils.decisions.models import Comment, Proposal, ProposalKind, ProposalState, Report
from councils.errors import Closed, CouncilsError, Invalid, NotFound
from councils.adapters.pages import acts, confirm_page, form_error
from councils.adapters.words import percent
from django.utils.translation import gettext as _, gettext_lazy, ngettext


@login_required
def proposal_create(request, slug: str):
    council = get_object_or_404(Council.objects.select_related("charter"), slug=slug)
    now = timezone.localtime(clock.now()).replace(microsecond=0)
    initial = {
        "deliberation_ends": now + council.charter.deliberation_period,
        "voting_ends": now + council.charter.deliberation_period + council.charter.voting_period,
        "kind": request.GET.get("kind", ProposalKind.MOTION),
        "federation": request.GET.get("federation"), "petition": request.GET.get("petition"),
        "office": request.GET.get("office", ""),
        **_postponement_initial(council, request.GET.get("postponement")),
    }
    form = ProposalForm(request.POST or None, initial=initial, council=council)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.create_proposal(
                request.user, council, title=data["title"], body=data["body"], kind=data["kind"],
                deliberation_ends=data["deliberation_ends"], voting_ends=data["voting_ends"],
                subject_member=data["subject_member"], federation=data["federation"],
                decision_method=None if form.is_election(data["kind"]) and data["decision_method"] not in ("irv", "stv", "stv_meek") else data["decision_method"],
                options=form.option_list(), seats=data["seats"], max_score=data["max_score"], secret=data["secret"],
                office=data["office"] or "", draft=data["draft"], petition=data["petition"],
                payload=form.postponement_payload() or ({"destination": data["destination"]} if data.get("destination") else None),
            )
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your draft is saved: only you see it.") if data["draft"]
                             else _("Your proposal is before the council."))
            return redirect(proposal)
    elif request.method == "GET" and not membership_of(request.user, council):
        messages.error(request, _("Only members of %(name)s may make proposals.") % {"name": council.name})
        return redirect(council)
    return render(request, "decisions/proposal_form.html", {"form": form, "council": council,
                                                            "kinds": kinds.proposable(council), "chosen": form.chosen_kind})


def _postponement_initial(council, given) -> dict:
    """A postponement proposed from a proposal's page: that proposal, its deadlines as they stand to start from."""
    target = Proposal.objects.filter(pk=int(given), council=council).first() if given and given.isdigit() else None
    if target is None:
        return {}
    return {"postponement": target.pk,
            "postponement_deliberation_ends": timezone.localtime(target.deliberation_ends).replace(microsecond=0),
            "postponement_voting_ends": timezone.localtime(target.voting_ends).replace(microsecond=0),
            "title": (_("Postpone “%(title)s”") % {"title": target.title})[:200]}


@login_required
def charter_change(request, slug: str):
    """A member proposes a change of the council's charter; the members decide it by the charter's own method."""
    council = get_object_or_404(Council.objects.select_related("charter"), slug=slug)
    form = CharterChangeForm(request.POST or None, council=council)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.create_proposal(request.user, council, title=data["title"], body=data["body"],
                                                kind=ProposalKind.CHARTER, payload=form.changes())
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your change of the charter is before the council."))
            return redirect(proposal)
    elif request.method == "GET" and not membership_of(request.user, council):
        messages.error(request, _("Only members of %(name)s may propose a change of its charter.") % {"name": council.name})
        return redirect(council)
    return render(request, "decisions/charter_change_form.html", {
        "form": form, "council": council, "method": DecisionMethod(council.charter.charter_change_method).label})


def council_page_part(council, user, now) -> dict:
    """What a council's page shows of its votes (registered in ``assemblies.hooks``): open proposals, decisions,
    officers, and the visitor's own pending request to join."""
    services.settle_due(council, now)
    proposals = list(
        services.visible_proposals(user, council).filter(parent__isnull=True).select_related("author", "decision").order_by("-voting_ends")[:100]
    )
    for proposal in proposals:
        proposal.state_label = ProposalState(proposal.state(now)).label
    open_proposals = [p for p in proposals if p.state(now) in (ProposalState.DRAFT, ProposalState.DELIBERATION, ProposalState.VOTING)]
    return {
        "open_proposals": open_proposals,
        "decided": [p for p in proposals if p not in open_proposals],
        "officers": services.current_officers(council, now),
        "pending_request": getattr(user, "is_authenticated", False) and Proposal.objects.filter(
            council=council, kind=ProposalKind.ADMISSION, subject_member=user, voting_ends__gt=now).first(),
    }


def _get_proposal(request, slug: str, pk: int) -> Proposal:
    proposal = get_object_or_404(
        Proposal.objects.select_related("council", "author", "subject_member", "federation", "parent"), pk=pk, council__slug=slug
    )
    try:
        services.require_visible(request.user, proposal)
    except NotFound:
        raise Http404(_("no such proposal")) from None
    return proposal


def _amendment_diff(amendment: Proposal) -> list[tuple[str, str]]:
    """Word-level diff of passage -> replacement, as (kind, text) pairs: kind is '', 'del' or 'ins'."""
    old, new = amendment.passage.split(" "), amendment.replacement.split(" ")
    parts = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("", " ".join(old[a1:a2])))
        if op in ("delete", "replace"):
            parts.append(("del", " ".join(old[a1:a2])))
        if op in ("insert", "replace"):
            parts.append(("ins", " ".join(new[b1:b2])))
    return parts


def proposal_detail(request, slug: str, pk: int):
    proposal = _get_proposal(request, slug, pk)
    now = clock.now()
    council = proposal.council
    decision = services.get_decision(proposal, now)
    state = proposal.state(now)
    membership = membership_of(request.user, council)
    officer = services.is_officer(request.user, council, now)
    options = list(proposal.options.select_related("member"))
    labels = {o.pk: o.label for o in options}
    shown = not proposal.secret or state == ProposalState.CLOSED
    rows = services.ballot_rows(proposal) if shown else []
    my_vote = services.my_vote(request.user, proposal)
    amendments = [
        {"proposal": a, "state": a.state(now), "diff": [] if a.hidden_at else _amendment_diff(a),
         "my_vote": services.my_vote(request.user, a),
         "decision": services.get_decision(a, now)}
        for a in proposal.amendments.filter(published_at__isnull=False).order_by("pk")
    ]
    return render(request, "decisions/proposal_detail.html", {
        "proposal": proposal,
        "council": council,
        "state": state,
        "decision": decision,
        "membership": membership,
        "is_author": request.user.is_authenticated and request.user.pk == proposal.author_id,
        "can_withdraw": kinds.kind_of(proposal).withdrawable,
        "second_round": Proposal.objects.filter(fallback_of=proposal, published_at__isnull=False).select_related("decision").first(),
        "is_officer": officer,
        "options": options,
        "my_vote": my_vote,
        "my_ranks": _my_ranks(my_vote),
        "rank_choices": range(1, len(options) + 1),
        "score_choices": range(0, proposal.max_score + 1),
        "comment_form": CommentForm(),
        "hide_form": HideForm(),
        "amendment_form": AmendmentForm(),
        "schedule_form": ScheduleForm(initial={
            "deliberation_ends": timezone.localtime(proposal.deliberation_ends), "voting_ends": timezone.localtime(proposal.voting_ends)}),
        "minority_form": MinorityReportForm(),
        "receipt_form": ReceiptForm(),
        "receipt_found": _receipt_lookup(request, proposal, state, labels),
        "can_report": decision is not None and membership is not None and services.on_losing_side(request.user, decision),
        "can_call_fallback": (decision is not None and proposal.decision_method == DecisionMethod.CONSENSUS
                              and proposal.consensus_fallback is not None and decision.outcome == "rejected"
                              and decision.blocks > 0 and not Proposal.objects.filter(fallback_of=proposal).exists()),
        "comments": _comments_for(request.user, proposal),
        "hidden_text": services.hidden_text_for(request.user, proposal),
        "reports": (list(Report.objects.filter(Q(proposal=proposal) | Q(comment__proposal=proposal)).select_related("reporter"))
                    if officer else []),
        "text_appeal": Proposal.objects.filter(hidden_proposal=proposal).order_by("-pk").first(),
        "ballot_lines": list(zip(rows, ballots_for_display(proposal, rows, labels))),
        "counts": services.current_counts(proposal, rows if shown else None),
        "amendments": amendments,
        "downloads": [f for f in FORMATS if f == "csv" or proposal.is_ranked],
        "charter_changes": sorted(proposal.payload.items()) if proposal.kind == ProposalKind.CHARTER and proposal.payload else [],
        "postponement": _postponement_part(proposal),
        "can_propose_postponement": (kinds.get(ProposalKind.POSTPONEMENT, council) is not None
                                     and proposal.kind != ProposalKind.POSTPONEMENT
                                     and not kinds.kind_of(proposal).fixed_schedule),
        "overruled_by": services.overruling_referendum(decision) if decision is not None else None,
        **kinds.page_parts(proposal, request.user, now),
        "now": now,
    })


def _postponement_part(proposal: Proposal) -> dict | None:
    """What a postponement would move: the proposal and its new deadlines."""
    target = services.postponed_proposal(proposal)
    if target is None:
        return None
    payload = proposal.payload
    return {"proposal": target, "deliberation_ends": datetime.fromisoformat(payload["deliberation_ends"]),
            "voting_ends": datetime.fromisoformat(payload["voting_ends"])}


def _comments_for(user, proposal: Proposal) -> list:
    """The comments, each hidden one with its text where this user may read it (its author; members during its appeal)."""
    comments = list(proposal.comments.select_related("author", "hidden_by"))
    for comment in comments:
        comment.readable_hidden_text = services.hidden_text_for(user, comment)
        comment.open_appeal = comment.hidden_at is not None and comment.appeals.filter(voting_ends__gt=clock.now()).first()
    return comments


def _my_ranks(my_vote) -> dict:
    content = getattr(my_vote, "content", None)
    if not isinstance(content, list) or not content or not isinstance(content[0], list):
        return {}
    return {option: rank for rank, group in enumerate(content, start=1) for option in group}


def _receipt_lookup(request, proposal, state, labels):
    receipt = request.GET.get("receipt")
    if not receipt or not proposal.secret or state != ProposalState.CLOSED:
        return None
    found = services.find_receipt(proposal, receipt)
    if found is None:
        return {"receipt": receipt, "missing": True}
    return {"receipt": receipt, "text": ballots_for_display(proposal, [found], labels)[0]}


def vote_from_post(proposal: Proposal, post) -> dict:
    """The ballot form's fields as the service's vote: one field per option for scores and ranks, so no drag and drop is needed."""
    if proposal.is_yes_no or proposal.is_consensus:
        return {"choice": post.get("choice"), "reason": post.get("reason", "")}
    options = list(proposal.options.values_list("pk", flat=True))
    if proposal.decision_method == DecisionMethod.APPROVAL:
        try:
            return {"approvals": [int(v) for v in post.getlist("approve")]}
        except ValueError:
            raise Invalid(_("unknown option"), field="approvals") from None
    if proposal.decision_method == DecisionMethod.SCORE:
        scores = {}
        for option in options:
            value = post.get(f"score_{option}", "")
            if value != "":
                try:
                    scores[str(option)] = int(value)
                except ValueError:
                    raise Invalid(_("a score is a whole number"), field="scores") from None
        return {"scores": scores}
    by_rank: dict[int, list[int]] = {}
    for option in options:
        value = post.get(f"rank_{option}", "")
        if value:
            try:
                rank = int(value)
            except ValueError:
                raise Invalid(_("a rank is a number"), field="ranking") from None
            by_rank.setdefault(rank, []).append(option)
    return {"ranking": [by_rank[rank] for rank in sorted(by_rank)]}


@login_required
@require_POST
@acts
def vote(request, slug: str, pk: int):
    proposal = _get_proposal(request, slug, pk)
    target = proposal.parent or proposal
    result = services.cast_ballot(request.user, proposal, vote_from_post(proposal, request.POST),
                                  secret=request.POST.get("secret") or None)
    if isinstance(result, services.SecretReceipt):
        # Shown once, on this response, and kept nowhere: a receipt and secret in the session would sit next to the
        # voter's id in the sessions table until the next page.
        response = render(request, "decisions/secret_receipt.html", {
            "proposal": proposal, "target": target, "council": proposal.council,
            "receipt": {"receipt": result.receipt, "secret": None if result.changed else result.secret, "changed": result.changed},
        })
        response["Cache-Control"] = "no-store"
        return response
    else:
        messages.success(request, _("Your vote is recorded. You may change it until voting ends."))
    return redirect(target)


def _post_action(service, success: str):
    @login_required
    @require_POST
    @acts
    def view(request, slug: str, pk: int):
        proposal = _get_proposal(request, slug, pk)
        result = service(request, proposal)
        messages.success(request, success)
        return redirect(result if isinstance(result, Proposal) else (proposal.parent or proposal))

    return view


def _comment_action(request, proposal):
    form = CommentForm(request.POST)
    if not form.is_valid():
        if not (form.data.get("body") or "").strip():
            raise Invalid(_("A comment cannot be empty."), field="body")
        raise Invalid(" ".join(form.errors.get("body", [_("The comment is not valid.")])), field="body")
    services.add_comment(request.user, proposal, form.cleaned_data["body"])
    return proposal


def _amend(request, proposal):
    form = AmendmentForm(request.POST)
    if not form.is_valid():
        raise Invalid(_("Quote the passage to replace."), field="passage")
    data = form.cleaned_data
    services.move_amendment(request.user, proposal, passage=data["passage"], replacement=data["replacement"], reason=data["reason"])
    return proposal


def _schedule(request, proposal):
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        raise Invalid(_("Give both deadlines."), field="voting_ends")
    return services.reschedule(request.user, proposal, **form.cleaned_data)


def _minority(request, proposal):
    form = MinorityReportForm(request.POST)
    decision = services.get_decision(proposal)
    if decision is None:
        raise Closed(_("A minority report is attached to a decision: wait for the vote to close."))
    if not form.is_valid():
        raise Invalid(_("A minority report cannot be empty."), field="body")
    services.add_minority_report(request.user, decision, form.cleaned_data["body"])
    return proposal


comment = _post_action(_comment_action, gettext_lazy("Your comment is added."))
amend = _post_action(_amend, gettext_lazy("Your amendment is moved: the members vote on it until deliberation ends."))
_accept_amendment = _post_action(lambda r, p: services.accept_amendment(r.user, p), gettext_lazy("The amendment is part of the text."))
publish = _post_action(lambda r, p: services.publish_draft(r.user, p), gettext_lazy("Your proposal is before the council."))
_withdraw = _post_action(lambda r, p: services.withdraw_proposal(r.user, p), gettext_lazy("The proposal is withdrawn."))
schedule = _post_action(_schedule, gettext_lazy("The deadlines are moved."))
_fallback = _post_action(lambda r, p: services.call_fallback_round(r.user, p), gettext_lazy("The second round is open."))
minority_report = _post_action(_minority, gettext_lazy("Your minority report is attached to the decision."))


def _confirmed(act, describe):
    """GET: the confirmation page ``describe(proposal, now)`` words; POST: the act itself."""

    @login_required
    def view(request, slug: str, pk: int):
        if request.method == "POST":
            return act(request, slug=slug, pk=pk)
        proposal = _get_proposal(request, slug, pk)
        return confirm_page(request, back=(proposal.parent or proposal).get_absolute_url(), **describe(proposal, clock.now()))

    return view


def _describe_withdrawal(proposal, now):
    voting = proposal.state(now) == ProposalState.VOTING
    lines = [_("It is not decided, and cannot be published again: to try again, make a new proposal."),
             _("The withdrawal is written to the council's public record.")]
    if voting:
        cast = services.current_counts(proposal)["ballots"]
        lines.insert(0, ngettext("Voting is open: the %(cast)s ballot already cast will be void, and its voter is told by email.",
                                 "Voting is open: the %(cast)s ballots already cast will be void, and those who voted are told by email.",
                                 cast) % {"cast": cast})
    return {"title": _("Withdraw “%(title)s”?") % {"title": proposal.title}, "question": _("Withdrawing cannot be undone."),
            "consequences": lines, "button": _("Withdraw the proposal")}


def _describe_acceptance(proposal, now):
    return {"title": _("Accept “%(title)s” into your text?") % {"title": proposal.title}, "question": _("The text changes at once and cannot be changed back."),
            "consequences": [_("The amendment's vote ends without a count: it is moot."), _("The change is written to the public record.")],
            "button": _("Accept the amendment"), "danger": False}


def _describe_fallback(proposal, now):
    return {"title": _("Call the second round?"), "question": _("A new vote opens at once and cannot be called off."),
            "consequences": [_("The members vote again; it passes with %(consensus_fallback)s of the votes.") % {"consensus_fallback": percent(proposal.consensus_fallback)},
                             _("The blocks of the first round stay on its record.")],
            "button": _("Call the second round"), "danger": False}


withdraw = _confirmed(_withdraw, _describe_withdrawal)
accept_amendment = _confirmed(_accept_amendment, _describe_acceptance)
fallback = _confirmed(_fallback, _describe_fallback)


def _get_comment(request, slug: str, comment_id: int) -> Comment:
    comment = get_object_or_404(Comment.objects.select_related("proposal__council"), pk=comment_id, proposal__council__slug=slug)
    services.require_visible(request.user, comment.proposal)
    return comment


@login_required
@require_POST
@acts
def hide_comment(request, slug: str, comment_id: int):
    comment = _get_comment(request, slug, comment_id)
    form = HideForm(request.POST)
    services.hide_comment(request.user, comment, form.data.get("reason", ""))
    messages.success(request, _("The comment is hidden; the reason is shown in its place."))
    return redirect(comment.proposal)


@login_required
@require_POST
@acts
def appeal_comment(request, slug: str, comment_id: int):
    appeal = services.appeal_hidden_comment(request.user, _get_comment(request, slug, comment_id))
    messages.success(request, _("Your appeal is before the assembly."))
    return redirect(appeal)


@login_required
@require_POST
@acts
def report_comment(request, slug: str, comment_id: int):
    services.report_content(request.user, comment=_get_comment(request, slug, comment_id), reason=request.POST.get("reason", ""))
    messages.success(request, _("Your report is recorded; the officers see it on the proposal's page."))
    return redirect(_get_comment(request, slug, comment_id).proposal)


@login_required
@require_POST
@acts
def report_proposal(request, slug: str, pk: int):
    proposal = _get_proposal(request, slug, pk)
    services.report_content(request.user, proposal=proposal, reason=request.POST.get("reason", ""))
    messages.success(request, _("Your report is recorded; the officers see it on this page."))
    return redirect(proposal)


@login_required
@require_POST
@acts
def hide_proposal(request, slug: str, pk: int):
    proposal = _get_proposal(request, slug, pk)
    services.hide_proposal_text(request.user, proposal, request.POST.get("reason", ""))
    messages.success(request, _("The text is hidden; the reason is shown in its place."))
    return redirect(proposal)


@login_required
@require_POST
@acts
def appeal_proposal(request, slug: str, pk: int):
    appeal = services.appeal_hidden_text(request.user, _get_proposal(request, slug, pk))
    messages.success(request, _("Your appeal is before the assembly."))
    return redirect(appeal)


def download_ballots(request, slug: str, pk: int, fmt: str):
    proposal = _get_proposal(request, slug, pk)
    if fmt not in FORMATS:
        raise Http404(_("no such format"))
    if proposal.state(clock.now()) != ProposalState.CLOSED:
        messages.error(request, _("Ballots are published when the vote closes."))
        return redirect(proposal)
    try:
        text, content_type = export_ballots(proposal, fmt)
    except Invalid as exc:
        messages.error(request, exc.message)
        return redirect(proposal)
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="proposal-{proposal.pk}-ballots.{fmt}"'
    return response
