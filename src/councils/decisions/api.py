from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Header, Router, Schema, Status
from pydantic import AwareDatetime

from councils import clock
from councils.accounts.auth import member_auth, optional_auth
from councils.assemblies.models import ALL_METHODS, Council
from councils.assemblies.permissions import require_member
from councils.decisions import kinds, services
from councils.decisions.exports import FORMATS, export_ballots
from councils.decisions.models import Comment, Decision, Proposal, ProposalState
from councils.errors import Closed, Invalid, NotAllowed, NotFound
from councils.accounts.idempotency import HELP as IDEMPOTENCY_HELP, PATTERN as IDEMPOTENCY_PATTERN, idempotent
from councils.adapters.api import errors
from django.utils.translation import gettext as _

router = Router(tags=["proposals"])

Method = Literal[tuple(ALL_METHODS)]  # type: ignore[valid-type]


class OptionIn(Schema):
    label: str = Field("", max_length=200)
    description: str = Field("", max_length=5000)
    member: str | None = Field(None, description="elections: the candidate's user name")


class PostponementIn(Schema):
    proposal: int = Field(..., description="the proposal of this council to postpone (in deliberation)")
    deliberation_ends: AwareDatetime = Field(..., description="its new end of deliberation (never earlier)")
    voting_ends: AwareDatetime = Field(..., description="its new close (its vote never shorter)")


class ProposalIn(Schema):
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=100_000, description="Markdown")
    deliberation_ends: AwareDatetime | None = Field(None, description="voting opens; default: now + the charter's deliberation period")
    voting_ends: AwareDatetime | None = Field(None, description="default: deliberation end + the charter's voting period")
    # The kinds a member may propose, as registered by the apps that own them (decisions.kinds).
    kind: Literal[tuple(kinds.proposable_names())] = "motion"
    decision_method: Method | None = Field(None, description="default: the charter's")
    options: list[OptionIn | str] = Field(default_factory=list, max_length=50, description="options or candidates")
    seats: int = Field(1, ge=1, le=50)
    max_score: int = Field(5, ge=1, le=100)
    secret: bool = False
    office: Literal["", "facilitator", "secretary", "coordinator", "planning_delegate"] = ""
    draft: bool = Field(False, description="keep as a draft only you see, until you publish it")
    subject_member: str | None = Field(None, description="for a removal: the member's user name")
    federation: str | None = Field(None, description="joining or leaving a federation, electing delegates to it, backing its petition: its slug")
    petition: int | None = Field(None, description="backing a federation's petition (convocation, cancel_congress, referendum_demand): its id")
    charter_changes: dict[str, Any] | None = Field(
        None, description="a change of the charter (kind charter): the fields to change and their new values "
                          "(periods in seconds, shares between 0 and 1)")
    postponement: PostponementIn | None = Field(
        None, description="a postponement (kind postponement): the proposal and its new deadlines, beyond the "
                          "charter's limit on what its author or an officer may postpone; the members decide")
    destination: str | None = Field(None, max_length=400, description="a move (kind move): the address of the server "
                                                                       "the council moves to")


class OptionOut(Schema):
    id: int
    label: str
    description: str
    member: str | None


class MinorityReportOut(Schema):
    author: str
    body: str
    created_at: datetime


class ResultOut(Schema):
    outcome: str
    winners: list[str]
    yes: float
    no: float
    abstain: float
    blocks: float
    ballots: int
    members: int
    turnout: float
    quorum: float
    quorum_met: bool
    decided_at: datetime
    ballots_digest: str
    seed: int | None = Field(None, description="the seed of any lot the count drew, derived from the ballots' digest")
    tally: dict[str, Any]
    minority_reports: list[MinorityReportOut]
    overruled_by: int | None = Field(None, description="the referendum (its proposal id) whose members overruled this decision")


class ProposalOut(Schema):
    id: int
    council: str
    kind: str
    title: str
    body: str
    author: str
    subject_member: str | None
    federation: str | None
    parent: int | None
    passage: str
    replacement: str
    office: str
    fallback_of: int | None
    created_at: datetime
    published_at: datetime | None
    deliberation_ends: datetime
    voting_ends: datetime
    state: Literal["draft", "deliberation", "voting", "closed", "withdrawn", "accepted"]
    decision_method: str
    quorum: float
    seats: int
    max_score: int
    secret: bool
    options: list[OptionOut]
    amendments: list[int]
    hidden: bool = Field(False, description="moderation hid the text (body, passage, replacement): shown empty")
    hidden_by: str | None = None
    hidden_reason: str = ""
    charter_changes: dict[str, Any] | None = Field(None, description="a change of the charter: the fields and new values")
    postponement: dict[str, Any] | None = Field(
        None, description="a postponement: the proposal and its new deadlines (deliberation_ends, voting_ends)")
    destination: str | None = Field(None, description="a move: the address of the server the council moves to")
    ballots: int
    result: ResultOut | None


class ScheduleIn(Schema):
    deliberation_ends: AwareDatetime
    voting_ends: AwareDatetime


class PublishIn(Schema):
    deliberation_ends: AwareDatetime | None = None
    voting_ends: AwareDatetime | None = None


class AmendmentIn(Schema):
    passage: str = Field(..., min_length=1, max_length=100_000, description="the exact passage of the text to replace")
    replacement: str = Field(..., max_length=100_000)
    reason: str = Field("", max_length=20_000)


class CommentIn(Schema):
    body: str = Field(..., max_length=20_000)


class CommentOut(Schema):
    id: int
    author: str
    body: str | None
    created_at: datetime
    hidden: bool
    hidden_by: str | None
    hidden_reason: str


class HideIn(Schema):
    reason: str = Field(..., max_length=5000)


class BallotIn(Schema):
    choice: Literal["yes", "no", "abstain", "agree", "stand_aside", "block"] | None = None
    reason: str = Field("", max_length=5000, description="a block needs one")
    approvals: list[int] | None = Field(None, description="approval: the option ids you approve")
    scores: dict[str, int] | None = Field(None, description="score: option id -> score")
    ranking: list[int | list[int]] | None = Field(None, description="ranked: option ids best first; a list inside is a tie")
    secret: str | None = Field(None, description="secret votes: the secret you received, to change your ballot")


class BallotOut(Schema):
    proposal: int
    voter: str
    choice: str
    content: Any
    reason: str
    cast_at: datetime
    changed_at: datetime


class ReceiptOut(Schema):
    receipt: str
    secret: str | None = Field(None, description="shown on your first ballot only: keep it to change your ballot")
    changed: bool


class PublishedBallotOut(Schema):
    voter: str | None = None
    receipt: str | None = None
    choice: str
    content: Any
    reason: str


class MinorityReportIn(Schema):
    body: str = Field(..., max_length=20_000)


def result_out(decision: Decision | None) -> dict | None:
    if decision is None:
        return None
    return {
        "outcome": decision.outcome, "winners": decision.winners, "yes": decision.yes, "no": decision.no,
        "abstain": decision.abstain, "blocks": decision.blocks, "ballots": decision.ballots, "members": decision.members,
        "turnout": decision.turnout, "quorum": float(decision.proposal.quorum), "quorum_met": decision.quorum_met,
        "decided_at": decision.decided_at, "ballots_digest": decision.ballots_digest, "tally": decision.tally,
        "seed": decision.tally.get("seed"), "overruled_by": getattr(services.overruling_referendum(decision), "pk", None),
        "minority_reports": [{"author": r.author.username, "body": r.body, "created_at": r.created_at}
                             for r in decision.minority_reports.select_related("author")],
    }


def proposal_out(proposal: Proposal) -> dict:
    now = clock.now()
    return {
        "id": proposal.pk, "council": proposal.council.slug, "kind": proposal.kind, "title": proposal.title,
        "body": proposal.public_text("body"), "author": proposal.author.username,
        "hidden": proposal.hidden_at is not None, "hidden_by": proposal.hidden_by.username if proposal.hidden_by_id else None,
        "hidden_reason": proposal.hidden_reason,
        "subject_member": proposal.subject_member.username if proposal.subject_member_id else None,
        "federation": proposal.federation.slug if proposal.federation_id else None,
        "parent": proposal.parent_id, "passage": proposal.public_text("passage"),
        "replacement": proposal.public_text("replacement"),
        "office": proposal.office, "fallback_of": proposal.fallback_of_id,
        "created_at": proposal.created_at, "published_at": proposal.published_at,
        "deliberation_ends": proposal.deliberation_ends, "voting_ends": proposal.voting_ends,
        "state": proposal.state(now), "decision_method": proposal.decision_method, "quorum": float(proposal.quorum),
        "seats": proposal.seats, "max_score": proposal.max_score, "secret": proposal.secret,
        "options": [{"id": o.pk, "label": o.label, "description": o.description,
                     "member": o.member.username if o.member_id else None} for o in proposal.options.select_related("member")],
        "amendments": list(proposal.amendments.filter(published_at__isnull=False).values_list("pk", flat=True)),
        "charter_changes": proposal.payload if proposal.kind == "charter" else None,
        "postponement": proposal.payload if proposal.kind == "postponement" else None,
        "destination": proposal.payload["destination"] if proposal.kind == "move" and proposal.payload else None,
        "ballots": services.current_counts(proposal)["ballots"],
        "result": result_out(services.get_decision(proposal, now)),
    }


def comment_out(comment: Comment) -> dict:
    hidden = comment.hidden_at is not None
    return {"id": comment.pk, "author": comment.author.username, "body": None if hidden else comment.body,
            "created_at": comment.created_at, "hidden": hidden,
            "hidden_by": comment.hidden_by.username if comment.hidden_by_id else None, "hidden_reason": comment.hidden_reason}


def ballot_out(ballot) -> dict:
    return {"proposal": ballot.proposal_id, "voter": ballot.voter.username, "choice": ballot.choice,
            "content": ballot.content, "reason": ballot.reason, "cast_at": ballot.cast_at, "changed_at": ballot.changed_at}


def _proposal(request, proposal_id: int, *, settle: bool = True) -> Proposal:
    """``settle=False`` where the service called next settles the council itself: settling is not done twice per act."""
    proposal = get_object_or_404(
        Proposal.objects.select_related("council", "author", "subject_member", "federation"), pk=proposal_id
    )
    services.require_visible(getattr(request, "auth", None) or request.user, proposal)
    if settle:
        services.settle_due(proposal.council, clock.now())
    return proposal


def _ballot_proposal(request, proposal_id: int) -> Proposal:
    """``_proposal(..., settle=False)`` for casting a ballot: the proposal and its council, in one statement."""
    proposal = services.proposal_with_council(proposal_id)
    if proposal is None:
        raise Http404("No Proposal matches the given query.")
    return services.require_visible(getattr(request, "auth", None) or request.user, proposal)


def _closed_proposal(request, proposal_id: int) -> Proposal:
    proposal = _proposal(request, proposal_id)
    if proposal.state(clock.now()) != ProposalState.CLOSED:
        raise Closed(_("Ballots are published when the vote closes (%(isoformat)s).") % {"isoformat": proposal.voting_ends.isoformat()})
    return proposal


@router.get("/councils/{slug}/proposals", response={200: list[ProposalOut], **errors(404)}, auth=optional_auth,
            summary="A council's proposals (and my drafts)")
def list_proposals(request, slug: str):
    council = get_object_or_404(Council, slug=slug)
    services.settle_due(council, clock.now())
    proposals = services.visible_proposals(request.auth, council).select_related("council", "author", "subject_member", "federation")
    return [proposal_out(p) for p in proposals[:200]]


@router.post("/councils/{slug}/proposals", response={201: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Make a proposal, an election, or a draft")
def create_proposal(request, slug: str, payload: ProposalIn):
    council = get_object_or_404(Council, slug=slug)
    subject_member = federation = None
    if payload.subject_member:
        subject_member = get_user_model().objects.filter(username=payload.subject_member).first()
        if subject_member is None:
            raise Invalid(_("no member named %(subject_member)s") % {"subject_member": repr(payload.subject_member)}, field="subject_member")
    if payload.federation:
        federation = Council.objects.filter(slug=payload.federation).first()
        if federation is None:
            raise Invalid(_("no federation %(federation)s") % {"federation": repr(payload.federation)}, field="federation")
    options = [o if isinstance(o, str) else o.dict() for o in payload.options]
    if payload.charter_changes is not None and payload.postponement is not None:
        raise Invalid(_("a proposal is a change of the charter or a postponement, not both"), field="postponement")
    postponement = payload.postponement.dict() if payload.postponement is not None else None
    proposal = services.create_proposal(
        request.auth, council, title=payload.title, body=payload.body, deliberation_ends=payload.deliberation_ends,
        voting_ends=payload.voting_ends, kind=payload.kind, subject_member=subject_member, federation=federation,
        decision_method=payload.decision_method, options=options, seats=payload.seats, max_score=payload.max_score,
        secret=payload.secret, office=payload.office, draft=payload.draft, petition=payload.petition,
        payload=postponement if postponement is not None else ({"destination": payload.destination} if payload.destination else payload.charter_changes),
    )
    return Status(201, proposal_out(proposal))


@router.get("/proposals/{proposal_id}", response={200: ProposalOut, **errors(404)}, auth=optional_auth,
            summary="A proposal, with its result once decided")
def get_proposal(request, proposal_id: int):
    return proposal_out(_proposal(request, proposal_id))


@router.post("/proposals/{proposal_id}/publish", response={200: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Publish my draft")
def publish(request, proposal_id: int, payload: PublishIn):
    proposal = services.publish_draft(request.auth, _proposal(request, proposal_id), deliberation_ends=payload.deliberation_ends,
                                      voting_ends=payload.voting_ends)
    return proposal_out(proposal)


@router.post("/proposals/{proposal_id}/withdraw", response={200: ProposalOut, **errors(401, 403, 404, 409)},
             auth=member_auth, summary="Withdraw my proposal before voting opens")
def withdraw(request, proposal_id: int):
    return proposal_out(services.withdraw_proposal(request.auth, _proposal(request, proposal_id)))


@router.post("/proposals/{proposal_id}/schedule", response={200: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Move the deadlines (author or officer, before voting opens)")
def schedule(request, proposal_id: int, payload: ScheduleIn):
    proposal = services.reschedule(request.auth, _proposal(request, proposal_id, settle=False), deliberation_ends=payload.deliberation_ends,
                                   voting_ends=payload.voting_ends)
    return proposal_out(proposal)


@router.post("/proposals/{proposal_id}/amendments", response={201: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Move an amendment (during deliberation)")
def move_amendment(request, proposal_id: int, payload: AmendmentIn):
    amendment = services.move_amendment(request.auth, _proposal(request, proposal_id, settle=False), passage=payload.passage,
                                        replacement=payload.replacement, reason=payload.reason)
    return Status(201, proposal_out(amendment))


@router.post("/proposals/{proposal_id}/accept", response={200: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Accept an amendment into my proposal's text")
def accept(request, proposal_id: int):
    return proposal_out(services.accept_amendment(request.auth, _proposal(request, proposal_id)))


@router.post("/proposals/{proposal_id}/fallback", response={201: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Call the charter's fallback round after a consensus failed on blocks")
def fallback(request, proposal_id: int):
    return Status(201, proposal_out(services.call_fallback_round(request.auth, _proposal(request, proposal_id))))


@router.get("/proposals/{proposal_id}/comments", response={200: list[CommentOut], **errors(404)}, auth=optional_auth,
            summary="Comments (hidden ones show the reason instead)")
def list_comments(request, proposal_id: int):
    return [comment_out(c) for c in _proposal(request, proposal_id).comments.select_related("author", "hidden_by")]


@router.post("/proposals/{proposal_id}/comments", response={201: CommentOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Comment")
def add_comment(request, proposal_id: int, payload: CommentIn):
    return Status(201, comment_out(services.add_comment(request.auth, _proposal(request, proposal_id, settle=False), payload.body)))


def _comment(request, comment_id: int) -> Comment:
    comment = get_object_or_404(Comment.objects.select_related("proposal__council", "author"), pk=comment_id)
    services.require_visible(request.auth, comment.proposal)
    return comment


@router.post("/comments/{comment_id}/hide", response={200: CommentOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Hide a comment, with a reason (officers)")
def hide_comment(request, comment_id: int, payload: HideIn):
    return comment_out(services.hide_comment(request.auth, _comment(request, comment_id), payload.reason))


@router.post("/comments/{comment_id}/appeal", response={201: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Appeal a hidden comment to the assembly")
def appeal(request, comment_id: int):
    return Status(201, proposal_out(services.appeal_hidden_comment(request.auth, _comment(request, comment_id))))


class ReportIn(Schema):
    reason: str = Field(..., max_length=5000)


class ReportOut(Schema):
    id: int
    comment: int | None
    proposal: int | None
    reporter: str
    reason: str
    created_at: datetime


class HiddenTextOut(Schema):
    text: str


def report_out(report) -> dict:
    return {"id": report.pk, "comment": report.comment_id, "proposal": report.proposal_id,
            "reporter": report.reporter.username, "reason": report.reason, "created_at": report.created_at}


@router.post("/comments/{comment_id}/report", response={201: ReportOut, **errors(401, 403, 404, 422)},
             auth=member_auth, summary="Report a comment to the officers, with a reason (members)")
def report_comment(request, comment_id: int, payload: ReportIn):
    return Status(201, report_out(services.report_content(request.auth, comment=_comment(request, comment_id),
                                                          reason=payload.reason)))


@router.post("/proposals/{proposal_id}/report", response={201: ReportOut, **errors(401, 403, 404, 422)},
             auth=member_auth, summary="Report a proposal's or amendment's text to the officers, with a reason (members)")
def report_proposal(request, proposal_id: int, payload: ReportIn):
    return Status(201, report_out(services.report_content(request.auth, proposal=_proposal(request, proposal_id),
                                                          reason=payload.reason)))


@router.post("/proposals/{proposal_id}/hide", response={200: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Hide a proposal's text, with a reason (officers)")
def hide_proposal(request, proposal_id: int, payload: HideIn):
    return proposal_out(services.hide_proposal_text(request.auth, _proposal(request, proposal_id), payload.reason))


@router.post("/proposals/{proposal_id}/appeal", response={201: ProposalOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Appeal the hiding of a proposal's text to the assembly (its author or any member)")
def appeal_proposal(request, proposal_id: int):
    return Status(201, proposal_out(services.appeal_hidden_text(request.auth, _proposal(request, proposal_id))))


@router.get("/comments/{comment_id}/hidden-text", response={200: HiddenTextOut, **errors(401, 403, 404)},
            auth=member_auth, summary="A hidden comment's text: for its author, and the council's members during its appeal")
def comment_hidden_text(request, comment_id: int):
    text = services.hidden_text_for(request.auth, _comment(request, comment_id))
    if text is None:
        raise NotAllowed(_("A hidden text is read by its author, and by the council's members while an appeal is open."))
    return {"text": text}


@router.get("/proposals/{proposal_id}/hidden-text", response={200: HiddenTextOut, **errors(401, 403, 404)},
            auth=member_auth, summary="A proposal's hidden text: for its author, and the council's members during its appeal")
def proposal_hidden_text(request, proposal_id: int):
    text = services.hidden_text_for(request.auth, _proposal(request, proposal_id))
    if text is None:
        raise NotAllowed(_("A hidden text is read by its author, and by the council's members while an appeal is open."))
    return {"text": text}


@router.put("/proposals/{proposal_id}/ballot", response={200: BallotOut | ReceiptOut, **errors(401, 403, 404, 409, 422)},
            auth=member_auth, summary="Cast or change my ballot (send an Idempotency-Key to retry safely)")
@idempotent(keep=lambda answer: "receipt" not in answer)  # a secret ballot's receipt is never stored with its voter
def cast_ballot(request, proposal_id: int, payload: BallotIn,
                idempotency_key: str | None = Header(None, alias="Idempotency-Key", pattern=IDEMPOTENCY_PATTERN,
                                                           description=IDEMPOTENCY_HELP)):
    vote = payload.dict(exclude_none=True, exclude={"secret"})
    result = services.cast_ballot(request.auth, _ballot_proposal(request, proposal_id), vote, secret=payload.secret)
    if isinstance(result, services.SecretReceipt):
        return {"receipt": result.receipt, "secret": None if result.changed else result.secret, "changed": result.changed}
    return ballot_out(result)


@router.get("/proposals/{proposal_id}/ballot", response={200: BallotOut, **errors(401, 404)}, auth=member_auth,
            summary="My ballot (open votes)")
def my_ballot(request, proposal_id: int):
    proposal = _proposal(request, proposal_id)
    if proposal.secret:
        raise NotFound(_("A secret ballot is not linked to you: look it up by your receipt after the close."))
    ballot = services.my_vote(request.auth, proposal)
    if ballot is None:
        raise NotFound(_("You have not voted on this proposal."))
    return ballot_out(ballot)


@router.get("/proposals/{proposal_id}/ballots", response={200: list[PublishedBallotOut], **errors(404, 409)},
            auth=optional_auth, summary="Every ballot: open votes by voter; secret votes by receipt, after the close")
def list_ballots(request, proposal_id: int):
    proposal = _proposal(request, proposal_id)
    if proposal.secret and proposal.state(clock.now()) != ProposalState.CLOSED:
        raise Closed(_("Secret ballots are published, by receipt, when the vote closes."))
    return services.ballot_rows(proposal)


@router.get("/proposals/{proposal_id}/receipts/{receipt}", response={200: PublishedBallotOut, **errors(404, 409)},
            auth=optional_auth, summary="The ballot counted under a receipt (after the close)")
def check_receipt(request, proposal_id: int, receipt: str):
    found = services.find_receipt(_proposal(request, proposal_id), receipt)
    if found is None:
        raise NotFound(_("No ballot was counted under that receipt."))
    return found


@router.get("/proposals/{proposal_id}/ballots.{fmt}", auth=optional_auth, response={200: str, **errors(404, 409, 422)},
            summary="Download the ballots (csv, soi, toi, blt) to recount with any tool")
def download_ballots(request, proposal_id: int, fmt: str):
    if fmt not in FORMATS:
        raise NotFound(_("no such format: choose one of %(formats)s") % {"formats": ', '.join(FORMATS)})
    text, content_type = export_ballots(_closed_proposal(request, proposal_id), fmt)
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="proposal-{proposal_id}-ballots.{fmt}"'
    return response


@router.get("/proposals/{proposal_id}/result", response={200: ResultOut, **errors(404, 409)}, auth=optional_auth,
            summary="The decision")
def get_result(request, proposal_id: int):
    proposal = _proposal(request, proposal_id)
    decision = services.get_decision(proposal)
    if decision is None:
        raise Closed(_("Voting is open until %(isoformat)s.") % {"isoformat": proposal.voting_ends.isoformat()})
    return result_out(decision)


@router.post("/proposals/{proposal_id}/minority-reports", response={201: MinorityReportOut, **errors(401, 403, 404, 409, 422)},
             auth=member_auth, summary="Attach a minority report (members on the losing side)")
def add_minority_report(request, proposal_id: int, payload: MinorityReportIn):
    proposal = _proposal(request, proposal_id)
    require_member(request.auth, proposal.council, _("write a minority report"))
    decision = services.get_decision(proposal)
    if decision is None:
        raise Closed(_("A minority report is attached to a decision: wait for the vote to close."))
    report = services.add_minority_report(request.auth, decision, payload.body)
    return Status(201, {"author": report.author.username, "body": report.body, "created_at": report.created_at})
