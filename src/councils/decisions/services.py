"""Proposals, comments, ballots and decisions.

A vote closes at its stored ``voting_ends``, whoever reads it first: every
read path calls ``settle_due`` which writes the decision, stamped at the close,
if nobody has yet. No background worker is needed for a vote to close.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import Q

from councils import clock
from councils.assemblies.models import Council, DecisionMethod
from councils.assemblies.permissions import membership_of, require_member
from councils.decisions.models import Ballot, Choice, Comment, Decision, Outcome, Proposal, ProposalKind, ProposalState
from councils.errors import Closed, Conflict, Invalid, NotAllowed
from councils.record.services import append
from councils.tally import tally_majority

MAX_HORIZON = timedelta(days=366)
MAX_BODY = 100_000
METHOD_RULES = {
    DecisionMethod.MAJORITY: {"threshold": Fraction(1, 2), "base": "cast"},
    DecisionMethod.TWO_THIRDS: {"threshold": Fraction(2, 3), "base": "cast"},
    DecisionMethod.MAJORITY_OF_MEMBERS: {"threshold": Fraction(1, 2), "base": "members"},
}


def _clean_text(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title:
        raise Invalid("a proposal needs a title", field="title")
    if len(title) > 200:
        raise Invalid("a title has at most 200 characters", field="title")
    body = body or ""
    if len(body) > MAX_BODY:
        raise Invalid(f"the text has at most {MAX_BODY:,} characters", field="body")
    return title, body


def _periods(council: Council, now: datetime, deliberation_ends, voting_ends) -> tuple[datetime, datetime]:
    charter = council.charter
    if deliberation_ends is None:
        deliberation_ends = now + charter.deliberation_period
    if voting_ends is None:
        voting_ends = deliberation_ends + charter.voting_period
    if deliberation_ends.tzinfo is None or voting_ends.tzinfo is None:
        raise Invalid("deadlines need a time zone", field="deliberation_ends")
    # A minute's grace: a form filled in with "now" reaches the server a moment later.
    if deliberation_ends < now - timedelta(minutes=1):
        raise Invalid("the deliberation cannot end in the past", field="deliberation_ends")
    deliberation_ends = max(deliberation_ends, now)
    if voting_ends <= deliberation_ends:
        raise Invalid("voting must end after deliberation ends", field="voting_ends")
    if voting_ends - now > MAX_HORIZON:
        raise Invalid("voting must end within a year", field="voting_ends")
    return deliberation_ends, voting_ends


def _new_proposal(council, author, now, *, kind, title, body, deliberation_ends, voting_ends, subject_member=None, federation=None):
    charter = council.charter
    proposal = Proposal.objects.create(
        council=council, kind=kind, title=title, body=body, author=author, subject_member=subject_member,
        federation=federation, created_at=now, deliberation_ends=deliberation_ends, voting_ends=voting_ends,
        decision_method=charter.decision_method, quorum=charter.quorum,
    )
    append(council, kind="proposal.created", subject=proposal.subject, state=proposal.record_state(), at=now, actor=author)
    return proposal


def create_proposal(
    actor,
    council: Council,
    *,
    title: str,
    body: str = "",
    deliberation_ends: datetime | None = None,
    voting_ends: datetime | None = None,
    kind: str = ProposalKind.MOTION,
    subject_member=None,
    federation: Council | None = None,
) -> Proposal:
    """Any member may propose. Deadlines default to the charter's periods."""
    now = clock.now()
    settle_due(council, now)
    require_member(actor, council, "make proposals")
    title, body = _clean_text(title, body)
    deliberation_ends, voting_ends = _periods(council, now, deliberation_ends, voting_ends)
    if kind not in ProposalKind.values or kind == ProposalKind.ADMISSION:
        raise Invalid(f"kind must be one of motion, removal, affiliation, disaffiliation", field="kind")
    if kind == ProposalKind.REMOVAL:
        if subject_member is None or membership_of(subject_member, council) is None:
            raise Invalid("a removal names a current member", field="subject_member")
        if _open_proposals(council, now).filter(kind=kind, subject_member=subject_member).exists():
            raise Conflict("a removal vote about this member is already open")
    elif subject_member is not None:
        raise Invalid("only a removal names a member", field="subject_member")
    if kind in (ProposalKind.AFFILIATION, ProposalKind.DISAFFILIATION):
        from councils.federation.services import check_affiliation_proposal

        check_affiliation_proposal(council, federation, kind)
    elif federation is not None:
        raise Invalid("only joining or leaving a federation names one", field="federation")
    with transaction.atomic():
        return _new_proposal(
            council, actor, now, kind=kind, title=title, body=body, deliberation_ends=deliberation_ends,
            voting_ends=voting_ends, subject_member=subject_member, federation=federation,
        )


def open_admission_vote(applicant, council: Council, now: datetime) -> Proposal:
    """A request to join a council that admits by vote: the members' yes/no vote opens at once."""
    if _open_proposals(council, now).filter(kind=ProposalKind.ADMISSION, subject_member=applicant).exists():
        raise Conflict("Your request to join is already before the members.")
    with transaction.atomic():
        return _new_proposal(
            council, applicant, now, kind=ProposalKind.ADMISSION, title=f"Admit {applicant.username}",
            body=f"{applicant.username} asks to join {council.name}.", deliberation_ends=now,
            voting_ends=now + council.charter.voting_period, subject_member=applicant,
        )


def _open_proposals(council, now):
    return Proposal.objects.filter(council=council, voting_ends__gt=now)


def add_comment(actor, proposal: Proposal, body: str) -> Comment:
    now = clock.now()
    settle_due(proposal.council, now)
    require_member(actor, proposal.council, "comment")
    body = (body or "").strip()
    if not body:
        raise Invalid("a comment cannot be empty", field="body")
    if len(body) > 20_000:
        raise Invalid("a comment has at most 20,000 characters", field="body")
    with transaction.atomic():
        comment = Comment.objects.create(proposal=proposal, author=actor, body=body, created_at=now)
        append(proposal.council, kind="comment.added", subject=comment.subject, state=comment.record_state(), at=now, actor=actor)
    return comment


def cast_ballot(actor, proposal: Proposal, choice: str) -> Ballot:
    """Cast or change a ballot while voting is open."""
    if choice not in Choice.values:
        raise Invalid(f"choice must be one of {', '.join(Choice.values)}", field="choice")
    now = clock.now()
    council = proposal.council
    settle_due(council, now)
    require_member(actor, council, "vote")
    state = proposal.state(now)
    if state == ProposalState.DELIBERATION:
        raise Closed(f"Voting opens at {proposal.deliberation_ends:%Y-%m-%d %H:%M %Z}.")
    if state == ProposalState.CLOSED:
        raise Closed("Voting has closed.")
    with transaction.atomic():
        ballot = Ballot.objects.select_for_update().filter(proposal=proposal, voter=actor).first()
        if ballot is None:
            try:
                with transaction.atomic():
                    ballot = Ballot.objects.create(proposal=proposal, voter=actor, choice=choice, cast_at=now, changed_at=now)
            except IntegrityError:
                # A second request from the same member raced this one: treat it as a change.
                ballot = Ballot.objects.select_for_update().get(proposal=proposal, voter=actor)
            else:
                append(council, kind="ballot.cast", subject=ballot.subject, state=ballot.record_state(), at=now, actor=actor)
                return ballot
        if ballot.choice == choice:
            return ballot
        ballot.choice = choice
        ballot.changed_at = now
        ballot.save(update_fields=["choice", "changed_at"])
        append(council, kind="ballot.changed", subject=ballot.subject, state=ballot.record_state(), at=now, actor=actor)
    return ballot


def withdraw_open_ballots(member, council: Council, now: datetime, exclude: Proposal | None = None) -> int:
    """Withdraw a departing member's ballots from votes still open (inside the caller's transaction)."""
    ballots = Ballot.objects.filter(proposal__council=council, proposal__voting_ends__gt=now, voter=member)
    if exclude is not None:
        ballots = ballots.exclude(proposal=exclude)
    count = 0
    for ballot in ballots.select_related("proposal"):
        subject = ballot.subject
        ballot.delete()
        append(council, kind="ballot.withdrawn", subject=subject, state=None, at=now, actor=member, reason="member left")
        count += 1
    return count


def current_counts(proposal: Proposal) -> dict[str, int]:
    counts = {choice: 0 for choice in Choice.values}
    for row in proposal.ballots.values("choice"):
        counts[row["choice"]] += 1
    return counts


def tally_proposal(proposal: Proposal, members: int):
    counts = current_counts(proposal)
    rule = METHOD_RULES[proposal.decision_method]
    return tally_majority(
        counts["yes"], counts["no"], counts["abstain"], members=members, quorum=Fraction(str(proposal.quorum)), **rule
    )


def settle_due(council: Council | None, now: datetime | None = None) -> list[Decision]:
    """Write the decision of every vote in ``council`` (or concerning it as a federation) that has closed."""
    now = now or clock.now()
    due = Proposal.objects.filter(voting_ends__lte=now, decision__isnull=True)
    if council is not None:
        due = due.filter(Q(council=council) | Q(federation=council))
    decisions = []
    for proposal in due.order_by("voting_ends", "pk").select_related("council"):
        decision = settle_proposal(proposal)
        if decision is not None:
            decisions.append(decision)
    return decisions


def settle_proposal(proposal: Proposal) -> Decision | None:
    """Freeze the result of a closed vote, stamped at its close, and apply what it decided."""
    from councils.assemblies.services import members_at

    closed_at = proposal.voting_ends
    try:
        with transaction.atomic():
            # Lock the chain first: two readers settling the same vote queue here,
            # and the second finds the decision already written.
            from councils.record.services import lock_chains

            lock_chains(proposal.council)
            if Decision.objects.filter(proposal=proposal).exists():
                return None
            members = members_at(proposal.council, closed_at).count()
            result = tally_proposal(proposal, members)
            counts = current_counts(proposal)
            decision = Decision.objects.create(
                proposal=proposal, outcome=result.outcome, yes=counts["yes"], no=counts["no"], abstain=counts["abstain"],
                members=members, quorum_met=result.quorum_met, decided_at=closed_at,
                tally_json=json.dumps(result.to_dict(), sort_keys=True),
            )
            append(proposal.council, kind="decision.made", subject=decision.subject, state=decision.record_state(), at=closed_at)
            if decision.outcome == Outcome.ADOPTED:
                _apply(decision)
            return decision
    except IntegrityError:
        return None


def _apply(decision: Decision) -> None:
    kind = decision.proposal.kind
    if kind == ProposalKind.ADMISSION:
        from councils.assemblies.services import admit_by_decision

        admit_by_decision(decision)
    elif kind == ProposalKind.REMOVAL:
        from councils.assemblies.services import end_membership_by_decision

        end_membership_by_decision(decision)
    elif kind in (ProposalKind.AFFILIATION, ProposalKind.DISAFFILIATION):
        from councils.federation.services import apply_affiliation_decision

        apply_affiliation_decision(decision)


def get_decision(proposal: Proposal, now: datetime | None = None) -> Decision | None:
    now = now or clock.now()
    if proposal.state(now) != ProposalState.CLOSED:
        return None
    settle_due(proposal.council, now)
    return Decision.objects.filter(proposal=proposal).first()


def ballot_of(user, proposal: Proposal) -> Ballot | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Ballot.objects.filter(proposal=proposal, voter=user).first()


def proposals_awaiting_ballot(user, now: datetime | None = None):
    """Votes open now in the user's councils where they have not voted yet."""
    now = now or clock.now()
    if not getattr(user, "is_authenticated", False):
        return Proposal.objects.none()
    return (
        Proposal.objects.filter(
            council__memberships__member=user, council__memberships__left_at__isnull=True,
            deliberation_ends__lte=now, voting_ends__gt=now,
        )
        .exclude(ballots__voter=user)
        .select_related("council")
        .order_by("voting_ends")
    )


__all__ = [
    "NotAllowed",
    "add_comment",
    "cast_ballot",
    "create_proposal",
    "get_decision",
    "settle_due",
    "tally_proposal",
]
