"""Proposals, amendments, comments, ballots, decisions, minority reports and officers' procedural acts.

A vote closes at its stored ``voting_ends``, whoever reads it first: every
read path calls ``settle_due`` which writes the decision, stamped at the close,
if nobody has yet. No background worker is needed for a vote to close.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from councils import clock
from councils.accounts.signing import member_act
from councils.assemblies.models import (
    CONSENSUS_METHODS,
    OPTION_METHODS,
    STV_METHODS,
    YES_NO_METHODS,
    Council,
    DecisionMethod,
    Office,
    OfficeRole,
)
from councils.assemblies.permissions import membership_of, require_member
from councils.adapters import sql, words
from councils.decisions import kinds
from councils.decisions.ballots import Vote, clean_vote, digest, engine_input
from councils.decisions.models import (
    Ballot,
    Choice,
    Comment,
    Decision,
    MinorityReport,
    Option,
    Outcome,
    Proposal,
    ProposalKind,
    ProposalState,
    Report,
    SecretBallot,
    VoterRegister,
)
from councils.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, refuse_control_characters
from councils.record.chain import canonical_json
from councils.record.statement import content_sha256
from councils.record.services import plain as plain_record
from councils.record.services import append, entries as record_entries, lock_chains, moved_to, set_content_hidden, stamp
from councils import tally
from django.utils import timezone as django_timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, gettext_lazy

MAX_HORIZON = timedelta(days=366)
MAX_BODY = 100_000
MAX_OPTIONS = 50
METHOD_RULES = {
    DecisionMethod.MAJORITY: {"threshold": Fraction(1, 2), "base": "cast"},
    DecisionMethod.TWO_THIRDS: {"threshold": Fraction(2, 3), "base": "cast"},
    DecisionMethod.MAJORITY_OF_MEMBERS: {"threshold": Fraction(1, 2), "base": "members"},
}
OFFICER_ROLES = (OfficeRole.FACILITATOR, OfficeRole.SECRETARY)


# ----- reading -------------------------------------------------------------


def visible_proposals(user, council: Council):
    """Published proposals, plus the user's own drafts."""
    published = Q(published_at__isnull=False)
    if getattr(user, "is_authenticated", False):
        published |= Q(author=user)
    return Proposal.objects.filter(council=council).filter(published)


def require_visible(user, proposal: Proposal) -> Proposal:
    if proposal.published_at is None and getattr(user, "pk", None) != proposal.author_id:
        raise NotFound(gettext("no such proposal"))
    return proposal


def current_officers(council: Council, now: datetime | None = None):
    now = now or clock.now()
    return Office.objects.filter(council=council, starts_at__lte=now, ends_at__gt=now, ended_at__isnull=True).select_related("holder")


def is_officer(user, council: Council, now: datetime | None = None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    # Workplace roles (coordinator, planning delegate) carry no procedural powers over the council's votes.
    return (current_officers(council, now).filter(holder=user, role__in=OFFICER_ROLES).exists()
            and membership_of(user, council) is not None)


# ----- making proposals ----------------------------------------------------


def clean_text(title: str, body: str) -> tuple[str, str]:
    title = refuse_control_characters((title or "").strip(), "title", line_breaks=False)
    refuse_control_characters(body, "body")
    if not title:
        raise Invalid(gettext("a proposal needs a title"), field="title")
    if len(title) > 200:
        raise Invalid(gettext("a title has at most 200 characters"), field="title")
    body = body or ""
    if len(body) > MAX_BODY:
        raise Invalid(gettext("the text has at most %(max_body)s characters") % {"max_body": number_format(MAX_BODY, force_grouping=True)}, field="body")
    return title, body


def periods(council: Council, now: datetime, deliberation_ends, voting_ends, *, limits=True) -> tuple[datetime, datetime]:
    charter = council.charter
    if deliberation_ends is None:
        deliberation_ends = now + charter.deliberation_period
    if voting_ends is None:
        voting_ends = deliberation_ends + charter.voting_period
    if deliberation_ends.tzinfo is None or voting_ends.tzinfo is None:
        raise Invalid(gettext("deadlines need a time zone"), field="deliberation_ends")
    # A minute's grace: a form filled in with "now" reaches the server a moment later.
    if deliberation_ends < now - timedelta(minutes=1):
        raise Invalid(gettext("the deliberation cannot end in the past"), field="deliberation_ends")
    deliberation_ends = max(deliberation_ends, now)
    if voting_ends <= deliberation_ends:
        raise Invalid(gettext("voting must end after deliberation ends"), field="voting_ends")
    if voting_ends - now > MAX_HORIZON:
        raise Invalid(gettext("voting must end within a year"), field="voting_ends")
    if limits:
        if deliberation_ends - now < charter.min_deliberation_period - timedelta(minutes=1):
            raise Invalid(gettext("the charter asks for at least %(min_deliberation_period)s of deliberation") % {"min_deliberation_period": words.duration(charter.min_deliberation_period)}, field="deliberation_ends")
        voting = voting_ends - deliberation_ends
        if voting < charter.min_voting_period:
            raise Invalid(gettext("the charter asks for at least %(min_voting_period)s of voting") % {"min_voting_period": words.duration(charter.min_voting_period)}, field="voting_ends")
        if voting > charter.max_voting_period:
            raise Invalid(gettext("the charter allows at most %(max_voting_period)s of voting") % {"max_voting_period": words.duration(charter.max_voting_period)}, field="voting_ends")
    return deliberation_ends, voting_ends


def clean_options(options, method: str, seats: int, council: Council, *, eligible=None) -> list[dict]:
    """The options of a vote, checked. For an election, ``eligible(user, council, at)`` says who may stand (each
    option then names a candidate); otherwise options are plain labels."""
    if method not in OPTION_METHODS:
        if options:
            raise Invalid(gettext("only approval, score, ranked and STV votes have options"), field="options")
        return []
    election = eligible is not None
    cleaned = []
    for raw in options or []:
        raw = {"label": raw} if isinstance(raw, str) else dict(raw)
        label = refuse_control_characters((raw.get("label") or "").strip(), "options", line_breaks=False)
        refuse_control_characters(raw.get("description") or "", "options")
        member = raw.get("member")
        if election:
            user = member if hasattr(member, "pk") else get_user_model().objects.filter(username=member or label).first()
            if user is None or not eligible(user, council, None):
                raise Invalid(gettext("candidate %(value)s is not a member of %(name)s") % {"value": repr(label or member), "name": council.name}, field="options")
            member, label = user, label or user.username
        if not label:
            raise Invalid(gettext("every option needs a label"), field="options")
        if len(label) > 200:
            raise Invalid(gettext("an option's label has at most 200 characters"), field="options")
        cleaned.append({"label": label, "description": (raw.get("description") or "")[:5000], "member": member if hasattr(member, "pk") else None})
    if len(cleaned) < (1 if election else 2):
        raise Invalid(gettext("give at least two options, or a candidate"), field="options")
    if len(cleaned) > MAX_OPTIONS:
        raise Invalid(gettext("at most %(max_options)s options") % {"max_options": MAX_OPTIONS}, field="options")
    if len({o["label"] for o in cleaned}) != len(cleaned):
        raise Invalid(gettext("two options have the same label"), field="options")
    if method in STV_METHODS and not (1 <= seats <= len(cleaned) if election else 1 <= seats < len(cleaned)):
        raise Invalid(gettext("STV needs fewer seats than candidates"), field="seats")
    return cleaned


def is_member_at(user, council: Council, at=None) -> bool:
    return membership_of(user, council) is not None


def yes_no_method(council: Council) -> str:
    """The method of a yes/no vote opened by the rules: the charter's, where it is a yes/no method, else majority."""
    method = council.charter.decision_method
    return method if method in YES_NO_METHODS else DecisionMethod.MAJORITY


def _clean_method(council, kind: kinds.Kind, method, seats) -> str:
    if kind.method == "yes_no":
        return yes_no_method(council)
    if kind.method == "charter_change":
        return council.charter.charter_change_method
    if kind.method == "election":
        method = method or (DecisionMethod.IRV if seats == 1 else DecisionMethod.STV)
        if method not in (DecisionMethod.IRV, *STV_METHODS):
            raise Invalid(gettext("officers and delegates are elected by instant-runoff (one seat) or STV, Scottish or Meek "
                          "(several)"), field="decision_method")
        # Scottish STV is every council's default for several seats; Meek STV where the charter allows it.
        if method == DecisionMethod.STV_MEEK and not council.charter.allows(method):
            raise Invalid(gettext("the charter does not allow %(label)s") % {"label": DecisionMethod(method).label}, field="decision_method")
        if (method == DecisionMethod.IRV) != (seats == 1):
            raise Invalid(gettext("instant-runoff fills one seat; STV fills several"), field="seats")
        return method
    method = method or council.charter.decision_method
    if method not in DecisionMethod.values or method == DecisionMethod.FALLBACK:
        raise Invalid(gettext("unknown decision method %(method)s") % {"method": repr(method)}, field="decision_method")
    if not council.charter.allows(method):
        raise Invalid(gettext("the charter does not allow %(label)s") % {"label": DecisionMethod(method).label}, field="decision_method")
    if method not in STV_METHODS and seats != 1:
        raise Invalid(gettext("only STV fills several seats"), field="seats")
    return method


_FIELD_WORDS = {"federation": gettext_lazy("a federation"), "petition": gettext_lazy("a petition"),
               "subject_member": gettext_lazy("a member"), "office": gettext_lazy("an office"),
               "payload": gettext_lazy("charter changes or a proposal to postpone")}


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
    decision_method: str | None = None,
    options=None,
    seats: int = 1,
    max_score: int = 5,
    secret: bool | None = None,
    office: str = "",
    draft: bool = False,
    petition=None,
    payload=None,
) -> Proposal:
    """Any member may propose. Deadlines default to the charter's periods; a draft waits for its author to publish it.

    What a kind needs besides text, method and options is checked by the kind's own ``clean`` (see ``decisions.kinds``).
    """
    now = clock.now()
    settle_due(council, now)
    require_member(actor, council, gettext("make proposals"))
    title, body = clean_text(title, body)
    kind_def = kinds.get(kind, council) if isinstance(kind, str) else None
    if kind_def is None or not kind_def.proposable:
        raise Invalid(gettext("kind must be one of %(join)s") % {"join": ', '.join(k.name for k in kinds.proposable(council))}, field="kind")
    if not isinstance(seats, int) or not 1 <= seats <= MAX_OPTIONS:
        raise Invalid(gettext("seats is a whole number of at least 1"), field="seats")
    if not isinstance(max_score, int) or not 1 <= max_score <= 100:
        raise Invalid(gettext("the highest score is a whole number from 1 to 100"), field="max_score")
    given = {"federation": federation, "petition": petition, "subject_member": subject_member, "office": office,
             "payload": payload}
    for name, value in given.items():
        if value not in (None, "") and name not in kind_def.takes:
            raise Invalid(gettext("a %(lower)s does not name %(value)s") % {"lower": kind_def.label.lower(), "value": _FIELD_WORDS[name]}, field=name)
    draft_in = kinds.Draft(council=council, author=actor, seats=seats, federation=federation, petition=petition,
                           subject_member=subject_member, office=office or "", payload=payload)
    if kind_def.seats is not None and not decision_method:
        seats = kind_def.seats(draft_in) or seats
    method = _clean_method(council, kind_def, decision_method, seats)
    cleaned_options = clean_options(options, method, seats, council,
                                    eligible=(kind_def.eligible or is_member_at) if kind_def.method == "election" else None)
    given_times = {"deliberation_ends": _when(deliberation_ends), "voting_ends": _when(voting_ends)}
    deliberation_ends, voting_ends = periods(council, now, deliberation_ends, voting_ends)
    extra = kind_def.clean(replace(draft_in, seats=seats, candidates=cleaned_options, deliberation_ends=deliberation_ends,
                                   voting_ends=voting_ends)) if kind_def.clean else {}
    with transaction.atomic():
        # A draft is the author's own until published: its publication is the signed act.
        signed = None if draft else member_act(
            actor, act="proposal.create", council=council, object=f"council:{council.slug}", now=now,
            content_sha256=_text_digest({"kind": kind, "title": title, "body": body, **given_times, "decision_method": method,
                               "options": [o["label"] for o in cleaned_options], "seats": seats, "max_score": max_score,
                               "secret": bool(secret), "federation": getattr(federation, "slug", None),
                               "petition": getattr(petition, "pk", None), "subject_member": getattr(subject_member, "username", None),
                               "office": office or "", "payload": payload}))
        return new_proposal(
            council, actor, now, kind=kind, title=title, body=body, deliberation_ends=deliberation_ends,
            voting_ends=voting_ends, decision_method=method, options=cleaned_options, seats=seats, max_score=max_score,
            secret=bool(secret) or council.charter.secret_ballots, publish=not draft, signed=signed, **extra,
        )


def _text_digest(content) -> str:
    """A statement about text names it by hash only: moderation can hide a text, and the record must not keep it."""
    return content_sha256(_signable(content))


def _when(moment) -> str | None:
    """A time as a signed statement names it (the time the member gave, not one the server computed)."""
    return moment.astimezone(timezone.utc).isoformat() if isinstance(moment, datetime) else moment


def _signable(content):
    """Content as JSON a statement can carry: times in the record's format, anything else JSON does not hold as text."""
    return json.loads(json.dumps(plain_record(content), default=str))


def new_proposal(council, author, now, *, kind, title, body, deliberation_ends, voting_ends, decision_method=None,
                 options=(), seats=1, max_score=5, secret=None, publish=True, signed=None, **fields) -> Proposal:
    """Write a proposal and its options, and record it when published (inside the caller's transaction). For the
    services of every app that open votes: they check their own rules first."""
    charter = council.charter
    method = decision_method or yes_no_method(council)
    proposal = Proposal.objects.create(
        council=council, kind=kind, title=title, body=body, author=author, created_at=now,
        published_at=now if publish else None, deliberation_ends=deliberation_ends, voting_ends=voting_ends,
        decision_method=method, quorum=charter.quorum, seats=seats, max_score=max_score,
        secret=charter.secret_ballots if secret is None else secret,
        consensus_fallback=charter.consensus_fallback if method in CONSENSUS_METHODS else None, **fields,
    )
    for position, option in enumerate(options):
        Option.objects.create(proposal=proposal, position=position, **option)
    if publish:
        append(council, kind="proposal.created", subject=proposal.subject, state=proposal.record_state(), at=now, actor=author,
               **({"signed": signed} if signed else {}))
    return proposal


def _require_author(actor, proposal: Proposal, doing: str) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(gettext("Log in to %(doing)s.") % {"doing": doing})
    if proposal.author_id != actor.pk:
        raise NotAllowed(gettext("Only the author may %(doing)s.") % {"doing": doing})
    require_member(actor, proposal.council, doing)


def publish_draft(actor, proposal: Proposal, *, deliberation_ends=None, voting_ends=None) -> Proposal:
    now = clock.now()
    _require_author(actor, proposal, gettext("publish this draft"))
    if proposal.published_at is not None:
        raise Conflict(gettext("this proposal is already published"))
    if deliberation_ends is None and proposal.deliberation_ends >= now:
        deliberation_ends, voting_ends = proposal.deliberation_ends, voting_ends or proposal.voting_ends
    given_times = {"deliberation_ends": _when(deliberation_ends), "voting_ends": _when(voting_ends)}
    deliberation_ends, voting_ends = periods(proposal.council, now, deliberation_ends, voting_ends)
    if proposal.kind == ProposalKind.POSTPONEMENT:
        # Checked again as published: the proposal it moves may have left deliberation while this was a draft.
        clean_postponement(proposal.council, proposal.payload, voting_ends)
    with transaction.atomic():
        signed = member_act(actor, act="proposal.publish", council=proposal.council, object=proposal.subject,
                            content=given_times, now=now)
        proposal.published_at = now
        proposal.deliberation_ends, proposal.voting_ends = deliberation_ends, voting_ends
        proposal.save(update_fields=["published_at", "deliberation_ends", "voting_ends"])
        append(proposal.council, kind="proposal.created", subject=proposal.subject, state=proposal.record_state(), at=now, actor=actor,
               signed=signed)
    return proposal


def withdraw_proposal(actor, proposal: Proposal) -> Proposal:
    """The author may withdraw their proposal until its vote closes: a proposal put forward by mistake (or twice)
    must not be forced to a decision. Ballots already cast are void (kept, never counted), the record says how many,
    and their voters are told by email."""
    now = clock.now()
    settle_due(proposal.council, now)
    _require_author(actor, proposal, gettext("withdraw it"))
    if not kinds.kind_of(proposal).withdrawable:
        raise NotAllowed(gettext("The procedure that opened this vote needs its result; it runs its course."))
    state = proposal.state(now)
    if state not in (ProposalState.DRAFT, ProposalState.DELIBERATION, ProposalState.VOTING):
        raise Closed(gettext("The vote has closed: a decided proposal can no longer be withdrawn."))
    voters: set[int] = set()
    if state == ProposalState.VOTING:
        voters = set(Ballot.objects.filter(proposal=proposal).values_list("voter_id", flat=True))
        voters |= set(VoterRegister.objects.filter(proposal=proposal).values_list("voter_id", flat=True))
    with transaction.atomic():
        signed = member_act(actor, act="proposal.withdraw", council=proposal.council, object=proposal.subject,
                            content={}, now=now) if proposal.published_at is not None else None
        proposal.withdrawn_at = now
        proposal.save(update_fields=["withdrawn_at"])
        if proposal.published_at is not None:
            reason = f"withdrawn while voting was open: {len(voters)} ballot(s) void" if state == ProposalState.VOTING else ""
            append(proposal.council, kind="proposal.withdrawn", subject=proposal.subject, state=proposal.record_state(), at=now,
                   actor=actor, signed=signed, **({"reason": reason} if reason else {}))
        if voters:
            voter_ids = sorted(voters - {actor.pk})

            def tell_voters():
                from councils.decisions.notifications import tell_withdrawn

                tell_withdrawn(proposal, voter_ids)

            transaction.on_commit(tell_voters)
    return proposal


def reschedule(actor, proposal: Proposal, *, deliberation_ends: datetime, voting_ends: datetime) -> Proposal:
    """The author or an officer may move the deadlines while the proposal is in deliberation, never after voting opened.

    Whoever controls the clock must not control the decision: a reschedule only lengthens (deliberation ends no
    earlier, voting lasts no less), the close moves at most the charter's ``max_postponement`` beyond the close the
    proposal was published with (further needs the council's vote: a motion), and every member is told.
    """
    now = clock.now()
    council = proposal.council
    settle_due(council, now)
    require_member(actor, council, gettext("reschedule proposals"))
    if proposal.author_id != actor.pk and not is_officer(actor, council, now):
        raise NotAllowed(gettext("Only the author or an officer (facilitator, secretary) may reschedule a proposal."))
    if kinds.kind_of(proposal).fixed_schedule:
        raise NotAllowed(gettext("This vote's deadlines follow from its rules and cannot be moved."))
    if proposal.state(now) != ProposalState.DELIBERATION:
        raise Closed(gettext("Deadlines cannot change once voting has opened."))
    given_times = {"deliberation_ends": _when(deliberation_ends), "voting_ends": _when(voting_ends)}
    deliberation_ends, voting_ends = periods(council, now, deliberation_ends, voting_ends, limits=False)
    charter = council.charter
    if deliberation_ends < proposal.deliberation_ends:
        raise Invalid(gettext("a reschedule may lengthen the deliberation, never shorten it"), field="deliberation_ends")
    if voting_ends - deliberation_ends < proposal.voting_ends - proposal.deliberation_ends:
        raise Invalid(gettext("a reschedule may lengthen the vote, never shorten it"), field="voting_ends")
    if voting_ends - deliberation_ends > charter.max_voting_period:
        raise Invalid(gettext("the charter allows at most %(max_voting_period)s of voting") % {"max_voting_period": words.duration(charter.max_voting_period)}, field="voting_ends")
    if voting_ends - _published_close(proposal) > charter.max_postponement:
        further = (gettext("postponing it further needs the council's vote: propose a postponement (a proposal of the kind "
                           "“Postponement of a proposal” naming this one and its new deadlines), which the members decide, "
                           "or withdraw it and propose it again later") if kinds.get(ProposalKind.POSTPONEMENT, council)
                   else gettext("further, withdraw it and propose it again later"))
        raise NotAllowed(gettext("The charter lets the author or an officer postpone a proposal by at most %(max_postponement)s "
                                 "in all; %(further)s.") % {"max_postponement": words.duration(charter.max_postponement),
                                                           "further": further})
    with transaction.atomic():
        signed = member_act(actor, act="proposal.reschedule", council=council, object=proposal.subject,
                            content=given_times, now=now)
        _move_deadlines(proposal, deliberation_ends, voting_ends, at=now, actor=actor, signed=signed)
    return proposal


def _move_deadlines(proposal: Proposal, deliberation_ends: datetime, voting_ends: datetime, *, at: datetime, actor=None,
                    **extra) -> None:
    """Move a proposal's deadlines (and its open amendments' close), record it, and have every member told again
    (inside the caller's transaction; the caller has checked the rules)."""
    from councils.accounts.models import NotificationKind, SentNotification

    council = proposal.council
    # Every member is told of each reschedule: a new notice, even to those told of an earlier one.
    SentNotification.objects.filter(proposal_id=proposal.pk, kind=NotificationKind.MOVED).delete()
    proposal.deliberation_ends, proposal.voting_ends = deliberation_ends, voting_ends
    proposal.save(update_fields=["deliberation_ends", "voting_ends"])
    append(council, kind="proposal.rescheduled", subject=proposal.subject, state=proposal.record_state(), at=at,
           actor=actor, **extra)
    # Amendments are voted until the main proposal's deliberation ends.
    for amendment in proposal.amendments.filter(withdrawn_at__isnull=True, accepted_at__isnull=True):
        amendment.voting_ends = deliberation_ends
        amendment.save(update_fields=["voting_ends"])
        append(council, kind="proposal.rescheduled", subject=amendment.subject, state=amendment.record_state(), at=at,
               actor=actor, **extra)


# ----- postponement by the council's vote ----------------------------------


def _aware(value, field: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(gettext("%(value)s is not a date and time (ISO 8601)") % {"value": repr(value)}, field=field) from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid(gettext("give the new deadlines as dates and times with a time zone"), field=field)
    return value


def clean_postponement(council: Council, payload, vote_closes: datetime | None) -> dict:
    """What a postponement puts to the vote: a proposal of this council still in deliberation, and its new deadlines,
    which only lengthen (as any reschedule) and may go beyond the charter's limit, since the council decides. The
    council's vote must close before voting on the proposal would open: a vote cannot move a vote already open."""
    if not isinstance(payload, dict) or not payload.get("proposal"):
        raise Invalid(gettext("a postponement names the proposal to postpone and its new deadlines"), field="postponement")
    now = clock.now()
    target_id = payload["proposal"]
    target = Proposal.objects.filter(pk=target_id, council=council).first() if isinstance(target_id, int) else None
    if target is None:
        raise Invalid(gettext("%(name)s has no proposal %(proposal)s") % {"name": council.name, "proposal": repr(target_id)},
                      field="postponement")
    if target.kind == ProposalKind.POSTPONEMENT or kinds.kind_of(target).fixed_schedule:
        raise Invalid(gettext("that vote's deadlines follow from its rules and cannot be moved"), field="postponement")
    if target.state(now) != ProposalState.DELIBERATION:
        raise Invalid(gettext("only a proposal in deliberation can be postponed: voting on it has opened, or it is "
                              "decided, withdrawn or a draft"), field="postponement")
    deliberation_ends = _aware(payload.get("deliberation_ends"), "postponement")
    voting_ends = _aware(payload.get("voting_ends"), "postponement")
    deliberation_ends, voting_ends = periods(council, now, deliberation_ends, voting_ends, limits=False)
    _check_lengthens(target, deliberation_ends, voting_ends)
    if vote_closes is not None and vote_closes >= target.deliberation_ends:
        raise Invalid(gettext("this vote would close after voting on “%(title)s” opens (%(opens)s): let it close by "
                              "then, or first postpone the proposal within the charter's limit")
                      % {"title": target.title, "opens": stamp(target.deliberation_ends)}, field="voting_ends")
    return {"proposal": target.pk, "deliberation_ends": stamp(deliberation_ends), "voting_ends": stamp(voting_ends)}


def _check_lengthens(proposal: Proposal, deliberation_ends: datetime, voting_ends: datetime, field: str = "postponement") -> None:
    charter = proposal.council.charter
    if deliberation_ends < proposal.deliberation_ends:
        raise Invalid(gettext("a postponement may lengthen the deliberation, never shorten it"), field=field)
    if voting_ends - deliberation_ends < proposal.voting_ends - proposal.deliberation_ends:
        raise Invalid(gettext("a postponement may lengthen the vote, never shorten it"), field=field)
    if voting_ends - deliberation_ends > charter.max_voting_period:
        raise Invalid(gettext("the charter allows at most %(max_voting_period)s of voting") % {"max_voting_period": words.duration(charter.max_voting_period)},
                      field=field)


def postponed_proposal(proposal: Proposal) -> Proposal | None:
    """The proposal a postponement would move."""
    payload = proposal.payload if proposal.kind == ProposalKind.POSTPONEMENT else None
    return Proposal.objects.filter(pk=payload["proposal"]).first() if payload else None


def apply_postponement(decision: Decision) -> None:
    """The council adopted a postponement: the proposal's deadlines move, stamped at the vote's close, and every
    member is told as of any reschedule. Should the proposal have left deliberation, received ballots or been
    moved past these deadlines meanwhile, nothing moves and the record says why."""
    payload, at = decision.proposal.payload, decision.decided_at
    target = Proposal.objects.select_for_update().get(pk=payload["proposal"])
    deliberation_ends = datetime.fromisoformat(payload["deliberation_ends"])
    voting_ends = datetime.fromisoformat(payload["voting_ends"])
    reason = ""
    if target.state(at) != ProposalState.DELIBERATION:
        reason = "the proposal was no longer in deliberation when the vote closed"
    elif Ballot.objects.filter(proposal=target).exists() or VoterRegister.objects.filter(proposal=target).exists():
        reason = "ballots had been cast on the proposal"
    else:
        try:
            _check_lengthens(target, deliberation_ends, voting_ends)
        except Invalid as exc:
            reason = f"its deadlines had moved meanwhile: {exc}"
    if reason:
        append(target.council, kind="postponement.lapsed", subject=decision.subject, state=decision.record_state(),
               at=at, proposal=target.pk, reason=reason)
        return
    _move_deadlines(target, deliberation_ends, voting_ends, at=at, decision=decision.pk)


def _published_close(proposal: Proposal) -> datetime:
    """The close a proposal was published with, as the record wrote it (the row holds only the latest)."""
    entry = (record_entries(proposal.council).filter(subject=proposal.subject, kind="proposal.created").order_by("seq").first())
    if entry is None or not entry.data.get("state", {}).get("voting_ends"):
        return proposal.voting_ends
    return datetime.fromisoformat(entry.data["state"]["voting_ends"])


def open_admission_vote(applicant, council: Council, now: datetime, signed=None) -> Proposal:
    """A request to join a council that admits by vote: the members' yes/no vote opens at once."""
    if open_proposals(council, now).filter(kind=ProposalKind.ADMISSION, subject_member=applicant).exists():
        raise Conflict(gettext("Your request to join is already before the members."))
    with transaction.atomic():
        if signed is None:
            signed = member_act(applicant, act="membership.request", council=council, object=f"council:{council.slug}",
                                content={}, now=now)
        return new_proposal(
            council, applicant, now, kind=ProposalKind.ADMISSION, title=f"Admit {applicant.username}",
            body=f"{applicant.username} asks to join {council.name}.", deliberation_ends=now,
            voting_ends=now + council.charter.voting_period, subject_member=applicant, signed=signed,
        )


def open_proposals(council, now):
    """Published votes of ``council`` not yet closed or withdrawn."""
    return Proposal.objects.filter(council=council, voting_ends__gt=now, published_at__isnull=False, withdrawn_at__isnull=True)


# ----- amendments ------------------------------------------------------------


def move_amendment(actor, proposal: Proposal, *, passage: str, replacement: str, reason: str = "") -> Proposal:
    """Any member may move an amendment during deliberation: replace one passage of the text.

    Unless the author accepts it, the members vote on it until the deliberation
    ends; adopted amendments change the text that is then voted.
    """
    now = clock.now()
    council = proposal.council
    settle_due(council, now)
    require_member(actor, council, gettext("move amendments"))
    if proposal.kind == ProposalKind.AMENDMENT or proposal.published_at is None:
        raise Invalid(gettext("amendments are moved to a published proposal"), field="proposal")
    if proposal.state(now) != ProposalState.DELIBERATION:
        raise Closed(gettext("Amendments are moved during deliberation."))
    # An amendment is voted until the deliberation ends: moved at the last minute, it would be a snap vote.
    floor = council.charter.min_voting_period
    if proposal.deliberation_ends - now < floor:
        raise Closed(gettext("Amendments are moved at least %(floor)s before the deliberation ends, so that the members have the charter's minimum time to vote on them.") % {"floor": floor})
    if not passage:
        raise Invalid(gettext("quote the passage to replace"), field="passage")
    occurrences = proposal.body.count(passage)
    if occurrences == 0:
        raise Invalid(gettext("the passage is not in the proposal's text"), field="passage")
    if occurrences > 1:
        raise Invalid(gettext("the passage occurs more than once: quote more of it"), field="passage")
    refuse_control_characters(replacement, "replacement")
    refuse_control_characters(reason, "reason")
    if passage == replacement:
        raise Invalid(gettext("the replacement is the same as the passage"), field="replacement")
    if len(replacement) > MAX_BODY or len(reason or "") > 20_000:
        raise Invalid(gettext("the amendment is too long"), field="replacement")
    number = proposal.amendments.count() + 1
    with transaction.atomic():
        signed = member_act(actor, act="amendment.move", council=council, object=proposal.subject, now=now,
                            content_sha256=_text_digest({"passage": passage, "replacement": replacement, "reason": reason or ""}))
        return new_proposal(
            council, actor, now, kind=ProposalKind.AMENDMENT, title=f"Amendment {number} to “{proposal.title}”",
            body=reason or "", deliberation_ends=now, voting_ends=proposal.deliberation_ends, parent=proposal,
            passage=passage, replacement=replacement, secret=proposal.secret, signed=signed,
        )


def accept_amendment(actor, amendment: Proposal) -> Proposal:
    """The main proposal's author takes an amendment into the text; its vote is then moot."""
    now = clock.now()
    if amendment.kind != ProposalKind.AMENDMENT:
        raise Invalid(gettext("only amendments are accepted"), field="proposal")
    main = amendment.parent
    _require_author(actor, main, gettext("accept amendments into the text"))
    if main.state(now) != ProposalState.DELIBERATION or amendment.state(now) != ProposalState.VOTING:
        raise Closed(gettext("Amendments are accepted during deliberation, before their vote closes."))
    with transaction.atomic():
        signed = member_act(actor, act="amendment.accept", council=main.council, object=amendment.subject, content={}, now=now)
        _replace_passage(main, amendment, now, actor=actor, how="accepted by the author")
        amendment.accepted_at = now
        amendment.save(update_fields=["accepted_at"])
        append(main.council, kind="amendment.accepted", subject=amendment.subject, state=amendment.record_state(), at=now, actor=actor,
               signed=signed)
    return main


def _replace_passage(main: Proposal, amendment: Proposal, at, *, actor, how: str) -> bool:
    main.refresh_from_db(fields=["body"])
    if main.body.count(amendment.passage) != 1:
        append(main.council, kind="amendment.lapsed", subject=amendment.subject, state=amendment.record_state(), at=at, actor=actor,
               reason="its passage is no longer in the text")
        return False
    main.body = main.body.replace(amendment.passage, amendment.replacement, 1)
    main.save(update_fields=["body"])
    append(main.council, kind="proposal.amended", subject=main.subject, state=main.record_state(), at=at, actor=actor,
           amendment=amendment.pk, how=how)
    return True


# ----- comments and moderation -----------------------------------------------


def add_comment(actor, proposal: Proposal, body: str) -> Comment:
    now = clock.now()
    settle_due(proposal.council, now)
    require_member(actor, proposal.council, gettext("comment"))
    require_visible(actor, proposal)
    if proposal.published_at is None:
        raise Closed(gettext("Publish the draft before discussing it."))
    body = refuse_control_characters((body or "").strip(), "body")
    if not body:
        raise Invalid(gettext("a comment cannot be empty"), field="body")
    if len(body) > 20_000:
        raise Invalid(gettext("a comment has at most 20,000 characters"), field="body")
    with transaction.atomic():
        signed = member_act(actor, act="comment.add", council=proposal.council, object=proposal.subject, now=now,
                            content_sha256=_text_digest({"body": body}))
        comment = Comment.objects.create(proposal=proposal, author=actor, body=body, created_at=now)
        append(proposal.council, kind="comment.added", subject=comment.subject, state=comment.record_state(), at=now, actor=actor,
               signed=signed)
    return comment


def hide_comment(actor, comment: Comment, reason: str) -> Comment:
    """An officer hides a comment; the reason is shown in its place, recorded, and open to appeal."""
    return _hide(actor, comment, comment.proposal.council, reason, what="a comment", noun="comment", kind="comment.hidden")


def _hide(actor, hidden, council, reason: str, *, what: str, noun: str, kind: str, exists: bool = True):
    """Hide a comment or a proposal's text: an elected officer, with a reason shown to all; the entries keep the
    text's hash while the text itself leaves every public view."""
    now = clock.now()
    settle_due(council, now)
    require_member(actor, council, gettext("moderate"))
    if not is_officer(actor, council, now):
        raise NotAllowed(gettext("Only the council's elected facilitator or secretary may hide %(what)s.") % {"what": what})
    if not exists:
        raise NotFound(gettext("no such proposal"))
    reason = refuse_control_characters((reason or "").strip(), "reason")
    if not reason:
        raise Invalid(gettext("hiding a %(noun)s needs a reason, shown to all") % {"noun": noun}, field="reason")
    if hidden.hidden_at is not None:
        raise Conflict(gettext("this %(noun)s is already hidden") % {"noun": noun})
    with transaction.atomic():
        signed = member_act(actor, act=kind.replace("hidden", "hide"), council=council, object=hidden.subject, now=now,
                            content={"reason": reason[:5000]})
        hidden.hidden_at, hidden.hidden_by, hidden.hidden_reason = now, actor, reason[:5000]
        hidden.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        append(council, kind=kind, subject=hidden.subject, state=hidden.record_state(), at=now, actor=actor, signed=signed)
        set_content_hidden(hidden.subject, now)
    return hidden


def report_content(actor, *, reason: str, comment: Comment | None = None, proposal: Proposal | None = None) -> Report:
    """Any member reports a comment, or a proposal's or amendment's text, to the officers, with a reason (recorded)."""
    now = clock.now()
    if (comment is None) == (proposal is None):
        raise Invalid(gettext("report one comment or one proposal"), field="comment")
    council = (comment.proposal if comment is not None else proposal).council
    settle_due(council, now)
    require_member(actor, council, gettext("report"))
    if proposal is not None and proposal.published_at is None:
        raise NotFound(gettext("no such proposal"))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(gettext("a report needs a reason"), field="reason")
    if len(reason) > 5000:
        raise Invalid(gettext("a reason has at most 5,000 characters"), field="reason")
    with transaction.atomic():
        signed = member_act(actor, act="content.report", council=council, now=now,
                            object=(comment or proposal).subject, content_sha256=_text_digest({"reason": reason}))
        report = Report.objects.create(comment=comment, proposal=proposal, reporter=actor, reason=reason, created_at=now)
        append(council, kind="content.reported", subject=report.subject, state=report.record_state(), at=now, actor=actor,
               signed=signed)
    return report


def hide_proposal_text(actor, proposal: Proposal, reason: str) -> Proposal:
    """An officer hides a proposal's (or an amendment's) text; its title, its vote and its result stay. The reason is
    shown in its place, recorded, and open to appeal."""
    return _hide(actor, proposal, proposal.council, reason, what="a proposal's text", noun="text", kind="proposal.hidden",
                 exists=proposal.published_at is not None)


def appeal_hidden_text(actor, proposal: Proposal) -> Proposal:
    """The author or any member appeals the hiding of a proposal's text: the council's yes/no vote on restoring it
    opens at once. The appeal does not repeat the text: members read it on the proposal's page while the appeal runs."""
    now = clock.now()
    council = proposal.council
    settle_due(council, now)
    if getattr(actor, "pk", None) != proposal.author_id:
        require_member(actor, council, gettext("appeal"))
    if proposal.hidden_at is None:
        raise Invalid(gettext("this text is not hidden"), field="proposal")
    if open_proposals(council, now).filter(kind=ProposalKind.APPEAL, hidden_proposal=proposal).exists():
        raise Conflict(gettext("an appeal about this text is already open"))
    with transaction.atomic():
        signed = member_act(actor, act="proposal.appeal", council=council, object=proposal.subject, content={}, now=now)
        return new_proposal(
            council, actor, now, kind=ProposalKind.APPEAL, title=f"Restore the text of “{proposal.title}”?"[:200], signed=signed,
            body=f"{proposal.hidden_by.username} hid the text of this proposal, giving the reason: {proposal.hidden_reason}\n\n"
                 "Members of the council can read the hidden text on the proposal's page while this appeal is open.",
            deliberation_ends=now, voting_ends=now + council.charter.voting_period, hidden_proposal=proposal,
        )


def hidden_text_for(user, item) -> str | None:
    """The hidden text of a comment or proposal, for who may read it: its author always; the council's members while
    an appeal about it is open. Anyone else (and the public views) gets None."""
    if getattr(item, "hidden_at", None) is None or not getattr(user, "is_authenticated", False):
        return None
    is_comment = isinstance(item, Comment)
    council = item.proposal.council if is_comment else item.council
    text = item.body if is_comment else "\n\n".join(t for t in (item.passage and f"Passage: {item.passage}",
                                                                    item.replacement and f"Replacement: {item.replacement}",
                                                                    item.body) if t)
    if item.author_id == user.pk:
        return text
    appeals = open_proposals(council, clock.now()).filter(kind=ProposalKind.APPEAL)
    appeals = appeals.filter(comment=item) if is_comment else appeals.filter(hidden_proposal=item)
    if appeals.exists() and membership_of(user, council) is not None:
        return text
    return None


def appeal_hidden_comment(actor, comment: Comment) -> Proposal:
    """Any member may appeal a hiding to the assembly: a yes/no vote on restoring the comment opens at once."""
    now = clock.now()
    council = comment.proposal.council
    settle_due(council, now)
    if getattr(actor, "pk", None) != comment.author_id:
        require_member(actor, council, gettext("appeal"))
    if comment.hidden_at is None:
        raise Invalid(gettext("this comment is not hidden"), field="comment")
    if open_proposals(council, now).filter(kind=ProposalKind.APPEAL, comment=comment).exists():
        raise Conflict(gettext("an appeal about this comment is already open"))
    with transaction.atomic():
        signed = member_act(actor, act="comment.appeal", council=council, object=comment.subject, content={}, now=now)
        return new_proposal(
            council, actor, now, kind=ProposalKind.APPEAL, title=f"Restore the comment by {comment.author.username}?", signed=signed,
            # The appeal does not repeat the hidden text (that would publish it again): members read it on the
            # proposal's page while the appeal is open.
            body=f"{comment.hidden_by.username} hid this comment on “{comment.proposal.title}”, giving the reason: "
                 f"{comment.hidden_reason}\n\nMembers of the council can read the hidden comment on the proposal's page "
                 "while this appeal is open.",
            deliberation_ends=now, voting_ends=now + council.charter.voting_period, comment=comment,
        )


# ----- ballots -----------------------------------------------------------------


@dataclass(frozen=True)
class SecretReceipt:
    """What a secret voter keeps: the receipt to find their ballot in the published list, the secret to change it."""

    receipt: str
    secret: str
    changed: bool


def _receipt_of(secret: str) -> str:
    return hashlib.sha256(f"councils-receipt:{secret}".encode()).hexdigest()[:20]


def _secret_digest(secret: str) -> str:
    return hashlib.sha256(f"councils-secret:{secret}".encode()).hexdigest()


def cast_ballot(actor, proposal: Proposal, vote, *, secret: str | None = None):
    """Cast or change a ballot while voting is open.

    Open votes return the Ballot. Secret votes return a SecretReceipt: the first
    time with a new secret; to change the ballot later the voter gives it back.
    """
    now = clock.now()
    council = proposal.council
    settle_due(council, now)
    electorate = kinds.kind_of(proposal).electorate
    if electorate is not None:
        if not getattr(actor, "is_authenticated", False) or actor.pk not in electorate(proposal, now):
            raise NotAllowed((gettext("Only the voters this vote is put to may vote in it: %(name)s's members do not decide it alone.")
                              if not council.is_federation else
                              gettext("Every member of %(name)s's member councils votes in its referendum, and only they."))
                             % {"name": council.name})
    elif council.is_federation:
        raise NotAllowed(gettext("A federation's members are councils: their delegates cast their mandates."))
    else:
        require_member(actor, council, gettext("vote"))
    require_visible(actor, proposal)
    state = proposal.state(now)
    if state == ProposalState.DELIBERATION:
        raise Closed(gettext("Voting opens at %(deliberation_ends)s.")
                     % {"deliberation_ends": date_format(django_timezone.localtime(proposal.deliberation_ends), "SHORT_DATETIME_FORMAT")})
    if state != ProposalState.VOTING:
        raise Closed(gettext("Voting has closed.") if state == ProposalState.CLOSED
                     else gettext("This proposal is %(state)s.") % {"state": str(ProposalState(state).label).lower()})
    option_ids = [pk for pk, in sql.many(_OPTION_IDS_SQL, [proposal.pk])]
    clean = clean_vote(proposal, vote, option_ids)
    if proposal.secret:
        return _cast_secret(actor, proposal, clean, secret, now)
    content_json = clean.content_json()
    # A savepoint of its own: a refusal inside (the 428 asking for the member's signature) leaves a caller's
    # transaction usable.
    with transaction.atomic():
        ballot = _ballot_for_update(proposal, actor)
        if ballot is not None:
            ballot._state.fields_cache.update(proposal=proposal, voter=actor)
            if (ballot.choice, ballot.content_json, ballot.reason) == (clean.choice, content_json, clean.reason):
                return ballot
        # The member's signature on this very ballot, or the 428 asking for it: nothing is written without it.
        signed = member_act(actor, act="ballot.cast", council=council, object=proposal.subject,
                            content=ballot_content(clean), now=now)
        if ballot is None:
            values = {"proposal_id": proposal.pk, "voter_id": actor.pk, "choice": clean.choice, "content_json": content_json,
                      "reason": clean.reason, "cast_at": now, "changed_at": now}
            try:
                with transaction.atomic():
                    ballot = Ballot(id=sql.insert(Ballot, values), **values)
            except IntegrityError:
                # A second request from the same member raced this one: treat it as a change.
                ballot = Ballot.objects.select_for_update().get(proposal=proposal, voter=actor)
            else:
                ballot._state.adding = False
                ballot._state.fields_cache.update(proposal=proposal, voter=actor)
                append(council, kind="ballot.cast", subject=ballot.subject, state=ballot.record_state(), at=now, actor=actor,
                       signed=signed)
                return ballot
        ballot.choice, ballot.content_json, ballot.reason, ballot.changed_at = clean.choice, content_json, clean.reason, now
        sql.run(_BALLOT_CHANGE_SQL, [ballot.choice, ballot.content_json, ballot.reason, sql.when(now), ballot.pk])
        append(council, kind="ballot.changed", subject=ballot.subject, state=ballot.record_state(), at=now, actor=actor,
               signed=signed)
    return ballot


def ballot_content(clean: Vote) -> dict:
    """What a member signs of an open ballot: the ballot as the record keeps it (choice, content, reason)."""
    return {"choice": clean.choice, "content": json.loads(clean.content_json()) if clean.content is not None else None,
            "reason": clean.reason}


def participation_digest(proposal: Proposal) -> str:
    """What a secret voter signs: their participation in this vote, by a hash that says nothing of the ballot."""
    return content_sha256({"participation": True, "proposal": proposal.subject})


# The ballot's statements, written once (adapters.sql): a ballot is the act people make by the thousand at a close.
_BALLOT = sql.Rows(Ballot)
_BALLOT_SQL = (f"SELECT {_BALLOT.columns()} FROM {sql.table(Ballot)} WHERE {sql.quote('proposal_id')} = %s "
               f"AND {sql.quote('voter_id')} = %s")
_BALLOT_CHANGE_SQL = (f"UPDATE {sql.table(Ballot)} SET {sql.quote('choice')} = %s, {sql.quote('content_json')} = %s, "
                      f"{sql.quote('reason')} = %s, {sql.quote('changed_at')} = %s WHERE {sql.quote('id')} = %s")
_OPTION_IDS_SQL = (f"SELECT {sql.quote('id')} FROM {sql.table(Option)} WHERE {sql.quote('proposal_id')} = %s "
                   f"ORDER BY {sql.quote('position')}")
_PROPOSAL = sql.Rows(Proposal)
_COUNCIL = sql.Rows(Council)
_PROPOSAL_SQL = (f"SELECT {_PROPOSAL.columns('p')}, {_COUNCIL.columns('c')} FROM {sql.table(Proposal)} p "
                 f"JOIN {sql.table(Council)} c ON c.{sql.quote('id')} = p.{sql.quote('council_id')} WHERE p.{sql.quote('id')} = %s")


def _ballot_for_update(proposal: Proposal, actor) -> Ballot | None:
    row = sql.one(_BALLOT_SQL + sql.for_update(), [proposal.pk, actor.pk])
    return _BALLOT.make(row) if row is not None else None


def proposal_with_council(proposal_id: int) -> Proposal | None:
    """The proposal and its council, in one statement written once (what casting a ballot needs), or None."""
    row = sql.one(_PROPOSAL_SQL, [proposal_id])
    if row is None:
        return None
    proposal = _PROPOSAL.make(row[:len(_PROPOSAL)])
    proposal._state.fields_cache["council"] = _COUNCIL.make(row[len(_PROPOSAL):])
    return proposal


def _cast_secret(actor, proposal: Proposal, clean: Vote, secret: str | None, now) -> SecretReceipt:
    council = proposal.council
    with transaction.atomic():
        lock_chains(council)
        registered = VoterRegister.objects.filter(proposal=proposal, voter=actor).exists()
        if registered:
            if not secret:
                raise Conflict(gettext("You have voted. To change your secret ballot, give the secret you received."), field="secret")
            ballot = SecretBallot.objects.select_for_update().filter(proposal=proposal, secret_digest=_secret_digest(secret)).first()
            if ballot is None:
                raise NotAllowed(gettext("That secret does not match a ballot in this vote."))
            ballot.choice, ballot.content_json, ballot.reason = clean.choice, clean.content_json(), clean.reason
            ballot.save(update_fields=["choice", "content_json", "reason"])
            # The change is recorded without its voter: only the box's new seal, which says nothing of which ballot.
            _reshuffle_box(proposal)
            _seal_box(proposal, now)
            return SecretReceipt(ballot.receipt, secret, changed=True)
        if secret:
            raise Invalid(gettext("You have not voted yet; a secret is given with your first ballot."), field="secret")
        # The voter signs their participation only: the ballot goes to the box with its receipt, unlinked to them.
        signed = member_act(actor, act="ballot.participate", council=council, object=proposal.subject,
                            content_sha256=participation_digest(proposal), now=now)
        secret = secrets.token_urlsafe(24)
        receipt = _receipt_of(secret)
        registration = VoterRegister.objects.create(proposal=proposal, voter=actor, registered_at=now, link=_link_of(receipt))
        SecretBallot.objects.create(
            proposal=proposal, receipt=receipt, secret_digest=_secret_digest(secret),
            choice=clean.choice, content_json=clean.content_json(), reason=clean.reason,
        )
        _reshuffle_box(proposal)
        append(council, kind="voter.registered", subject=registration.subject, state=registration.record_state(), at=now, actor=actor,
               signed=signed)
        _seal_box(proposal, now)
    return SecretReceipt(_receipt_of(secret), secret, changed=False)


def _seal_key() -> bytes:
    # Kept out of the database (derived from the server's SECRET_KEY): whoever reads the database alone can neither
    # open a register row's link nor test a guess of the box against its seal.
    return hashlib.sha256(f"councils-ballot-seal:{settings.SECRET_KEY}".encode()).digest()


def _link_of(receipt: str) -> str:
    """The sealed link a register row keeps to its voter's secret ballot: lets the count leave out the ballot of a voter
    who is no longer a member at the close, without the database saying which ballot is whose."""
    return hmac.new(_seal_key(), f"link:{receipt}".encode(), "sha256").hexdigest()


def box_seal(proposal: Proposal) -> dict:
    """The state of a secret vote's ballot box as the record keeps it while the vote is open: how many ballots, and a
    keyed digest of them all (a flipped, added or removed ballot changes it; nobody can learn a ballot from it)."""
    rows = [{"receipt": b.receipt, "choice": b.choice, "content": b.content, "reason": b.reason}
            for b in proposal.secret_ballots.all()]
    rows.sort(key=lambda row: row["receipt"])
    return {"proposal": proposal.pk, "ballots": len(rows),
            "seal": hmac.new(_seal_key(), canonical_json(rows), "sha256").hexdigest()}


def _seal_box(proposal: Proposal, now: datetime) -> None:
    append(proposal.council, kind="ballot_box.sealed", subject=f"box:{proposal.pk}", state=box_seal(proposal), at=now)


def _reshuffle_box(proposal: Proposal) -> None:
    """Write the vote's secret ballots again, in a random order, after every cast or change.

    Both databases hand rows back in the order they were stored (SQLite by rowid, PostgreSQL by heap position), and
    the register is stored in the order people voted: without this, the n-th ballot is the n-th voter's. Rewriting the
    box costs one write per ballot per cast, a price paid only by secret votes.
    """
    fields = [f.attname for f in SecretBallot._meta.concrete_fields]
    rows = list(SecretBallot.objects.filter(proposal=proposal).values(*fields))
    secrets.SystemRandom().shuffle(rows)
    SecretBallot.objects.filter(proposal=proposal).delete()
    SecretBallot.objects.bulk_create([SecretBallot(**row) for row in rows])


def withdraw_open_ballots(member, council: Council, now: datetime, exclude: Proposal | None = None) -> int:
    """Withdraw a departing member's open ballots from votes still open (inside the caller's transaction).

    A secret ballot cannot be found from its voter, by design: it stays, and the
    member no longer counts among the members at the close.
    """
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


def on_member_leaving(sender, *, member, council, at, decision=None, **kwargs) -> None:
    """A member leaves (``assemblies.hooks.member_leaving``): their open ballots go; a removal vote keeps its own."""
    withdraw_open_ballots(member, council, at, exclude=decision.proposal if decision is not None else None)


def ballot_rows(proposal: Proposal) -> list[dict]:
    """Every ballot of the vote as plain data: open ones with the voter, secret ones with the receipt.

    Once the vote has closed, only the ballots that count: those whose voters were still voters (members, or the
    kind's electorate) at the close. A secret ballot's voter is found through its register row's sealed link.
    """
    closed = proposal.voting_ends <= clock.now()
    if proposal.secret:
        ballots = list(proposal.secret_ballots.all())
        if closed:
            left = set(proposal.register.exclude(voter_id__in=voters_at_close(proposal)).values_list("link", flat=True))
            ballots = [b for b in ballots if not left or _link_of(b.receipt) not in left]
        rows = [{"receipt": b.receipt, "choice": b.choice, "content": b.content, "reason": b.reason} for b in ballots]
        return sorted(rows, key=lambda r: r["receipt"])
    ballots = proposal.ballots.select_related("voter")
    if closed:
        ballots = ballots.filter(voter_id__in=voters_at_close(proposal))
    rows = [{"voter": b.voter.username, "choice": b.choice, "content": b.content, "reason": b.reason} for b in ballots]
    return sorted(rows, key=lambda r: r["voter"])


def voters_at_close(proposal: Proposal) -> list[int]:
    """Who may still count when the vote closes: the kind's electorate, or the council's members, at the close.

    A membership that ends at the very instant of the close (a removal decided by this vote) still counts: the vote was
    counted before its decision took effect, and a later recount must find the same ballots.
    """
    from councils.assemblies.models import Membership

    at = proposal.voting_ends
    electorate = kinds.kind_of(proposal).electorate
    if electorate is not None:
        return list(electorate(proposal, at))
    return list(Membership.objects.filter(council=proposal.council, joined_at__lte=at)
                .filter(Q(left_at__isnull=True) | Q(left_at__gte=at)).values_list("member_id", flat=True))


def current_counts(proposal: Proposal, rows: list[dict] | None = None) -> dict[str, int]:
    """Ballots per choice, and how many. ``rows``: ``ballot_rows(proposal)`` where the caller has read them already."""
    rows = ballot_rows(proposal) if rows is None else rows
    counts = {choice: 0 for choice in Choice.values}
    for row in rows:
        if row["choice"]:
            counts[row["choice"]] += 1
    counts["ballots"] = len(rows) if proposal.voting_ends <= clock.now() else (
        proposal.secret_ballots.count() if proposal.secret else proposal.ballots.count())
    return counts


def my_vote(user, proposal: Proposal):
    """The user's open ballot, or True if they voted secretly (nothing more is known), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if proposal.secret:
        return VoterRegister.objects.filter(proposal=proposal, voter=user).exists() or None
    return Ballot.objects.filter(proposal=proposal, voter=user).first()


ballot_of = my_vote


def find_receipt(proposal: Proposal, receipt: str) -> dict | None:
    """After the close, anyone can look a receipt up and see the ballot counted under it."""
    if proposal.state(clock.now()) != ProposalState.CLOSED:
        raise Closed(gettext("Receipts are published when the vote closes."))
    receipt = (receipt or "").strip()
    # Only a ballot that was counted: one cast by a voter who had left before the close is not published.
    return next((row for row in ballot_rows(proposal) if row["receipt"] == receipt), None)


# ----- closing votes -------------------------------------------------------------


def settle_due(council: Council | None, now: datetime | None = None) -> list[Decision]:
    """Write the decision of every vote in ``council`` (or concerning it as a federation) that has closed."""
    now = now or clock.now()
    if council is not None and sql.one(_DUE_SQL, [sql.when(now), council.pk, council.pk]) is None:
        return []  # the answer of nearly every request, from one statement written once
    due = Proposal.objects.filter(voting_ends__lte=now, decision__isnull=True, published_at__isnull=False,
                                  withdrawn_at__isnull=True, accepted_at__isnull=True)
    if council is not None:
        due = due.filter(Q(council=council) | Q(federation=council))
    decisions = []
    for proposal in due.order_by("voting_ends", "pk").select_related("council"):
        decision = settle_proposal(proposal)
        if decision is not None:
            decisions.append(decision)
    return decisions


def _column(name: str) -> str:
    return "p." + sql.quote(name)


# Is any vote of the council (or put to it as a federation) closed and not yet decided? The query of settle_due above.
_DUE_SQL = (f"SELECT 1 FROM {sql.table(Proposal)} p WHERE {_column('voting_ends')} <= %s "
            f"AND {_column('published_at')} IS NOT NULL AND {_column('withdrawn_at')} IS NULL "
            f"AND {_column('accepted_at')} IS NULL AND ({_column('council_id')} = %s OR {_column('federation_id')} = %s) "
            f"AND NOT EXISTS (SELECT 1 FROM {sql.table(Decision)} d WHERE d.{sql.quote('proposal_id')} = p.{sql.quote('id')}) "
            f"LIMIT 1")


def _seed(proposal: Proposal, ballots_digest: str) -> int:
    """Lots are drawn from the ballots themselves: unknowable before the close, reproducible by anyone after."""
    return int(hashlib.sha256(f"{proposal.pk}:{ballots_digest}".encode()).hexdigest()[:8], 16)


def lot_seed(proposal: Proposal, ballots_digest: str) -> int:
    """The seed of every lot drawn in counting ``proposal`` (its own count, a federation's count of its member councils'
    ballots, a countback after a recall): derived from the digest of the ballots counted. ``councils tally FILE
    --method M --seed N`` with the ballots downloaded after the close draws the same lots."""
    return _seed(proposal, ballots_digest)


def count_votes(proposal: Proposal, members: int, rows: list[dict], ballots_digest: str) -> dict:
    """Run the engine for this proposal's method. Returns the decision's fields."""
    method = proposal.decision_method
    quorum = Fraction(str(proposal.quorum))
    counts = {c: sum(1 for r in rows if r["choice"] == c) for c in Choice.values}
    fields = {"yes": counts["yes"], "no": counts["no"], "abstain": counts["abstain"], "blocks": counts["block"],
              "ballots": len(rows)}
    if method in YES_NO_METHODS:
        result = tally.tally_majority(counts["yes"], counts["no"], counts["abstain"], members=members, quorum=quorum,
                                      **METHOD_RULES[method])
        return {**fields, "outcome": result.outcome, "quorum_met": result.quorum_met, "winners": [], "tally": result.to_dict()}
    if method in CONSENSUS_METHODS:
        fallback = method == DecisionMethod.FALLBACK
        result = tally.tally_consensus(
            counts["agree"], counts["stand_aside"], counts["block"], members=members, quorum=quorum,
            fallback_threshold=proposal.consensus_fallback, fallback_round=fallback,
        )
        return {**fields, "yes": counts["agree"], "abstain": counts["stand_aside"], "outcome": result.outcome,
                "quorum_met": result.quorum_met, "winners": [], "tally": result.to_dict()}
    quorum_met = quorum == 0 or (members > 0 and Fraction(len(rows)) >= quorum * members)
    options = list(proposal.options.all())
    labels = {o.pk: o.label for o in options}
    names = [o.label for o in options]
    data = engine_input(proposal, rows, labels)
    seed = _seed(proposal, ballots_digest)
    if not data or (method in (DecisionMethod.APPROVAL,) and not any(data)):
        return {**fields, "outcome": Outcome.NO_QUORUM if not quorum_met else Outcome.NO_RESULT, "quorum_met": quorum_met,
                "winners": [], "tally": {"method": method, "options": names, "winners": [], "ballots": len(rows)}}
    if method == DecisionMethod.APPROVAL:
        result = tally.tally_approval(names, data, seed=seed)
    elif method == DecisionMethod.SCORE:
        result = tally.tally_score(names, data, max_score=proposal.max_score, seed=seed)
    else:
        profile = tally.Profile.from_rankings(names, data)
        if method == DecisionMethod.IRV:
            result = tally.tally_irv(profile, seed=seed)
        elif method == DecisionMethod.SCHULZE:
            result = tally.tally_schulze(profile, seed=seed)
        elif method == DecisionMethod.RANKED_PAIRS:
            result = tally.tally_ranked_pairs(profile, seed=seed)
        elif method == DecisionMethod.STV_MEEK:
            result = tally.tally_stv_meek(profile, proposal.seats, seed=seed)
        else:
            result = tally.tally_stv_scottish(profile, proposal.seats, seed=seed)
    winners = list(result.winners[: proposal.seats])
    outcome = Outcome.DECIDED if quorum_met else Outcome.NO_QUORUM
    return {**fields, "outcome": outcome, "quorum_met": quorum_met, "winners": winners if quorum_met else [],
            "tally": {**result.to_dict(), "seed": seed}}


def settle_proposal(proposal: Proposal) -> Decision | None:
    """Freeze the result of a closed vote, stamped at its close, and apply what it decided."""
    from councils.assemblies.services import members_at

    closed_at = proposal.voting_ends
    kind = kinds.kind_of(proposal)
    if moved_to(proposal.council):
        return None  # the council moved to another server by its own decision: its votes go on there
    try:
        with transaction.atomic():
            # Lock the chain first: two readers settling the same vote queue here,
            # and the second finds the decision already written.
            lock_chains(proposal.council)
            if Decision.objects.filter(proposal=proposal).exists():
                return None
            counting = _counting_of(proposal, kind)
            if counting is not None:
                counting.prepare(proposal)
                rows = counting.rows(proposal)
                ballots_digest = digest(rows)
                counted = counting.count(proposal, closed_at)
                members = counted["members"]
            else:
                if kind.electorate is not None:
                    members = len(kind.electorate(proposal, closed_at))
                else:
                    members = members_at(proposal.council, closed_at).count()
                rows = ballot_rows(proposal)
                ballots_digest = digest(rows)
                counted = count_votes(proposal, members, rows, ballots_digest)
            decision = Decision.objects.create(
                proposal=proposal, outcome=counted["outcome"], yes=counted["yes"], no=counted["no"],
                abstain=counted["abstain"], blocks=counted["blocks"], ballots=counted["ballots"], members=members,
                quorum_met=counted["quorum_met"], decided_at=closed_at, winners_json=json.dumps(counted["winners"]),
                tally_json=json.dumps(counted["tally"], sort_keys=True), ballots_digest=ballots_digest,
            )
            append(proposal.council, kind="decision.made", subject=decision.subject, state=decision.record_state(), at=closed_at)
            # Most kinds act only when adopted; some (a mandate, a referendum, a plan part) matter whatever the outcome.
            if kind.apply is not None and (kind.apply_always or decision.outcome in (Outcome.ADOPTED, Outcome.DECIDED)):
                kind.apply(decision)
            return decision
    except IntegrityError:
        return None


def _counting_of(proposal: Proposal, kind: kinds.Kind) -> kinds.Counting | None:
    """A council of councils counts by its registered counting, unless the kind is put to an electorate of persons."""
    if not proposal.council.is_federation or kind.electorate is not None:
        return None
    counting = kinds.counting()
    if counting is None:
        raise LookupError("no app registered how a federation's votes are counted")
    return counting


def rows_of(proposal: Proposal) -> list[dict]:
    """The ballots of a vote as its digest covers them (a federation's: its member councils' ballots)."""
    counting = _counting_of(proposal, kinds.kind_of(proposal))
    return counting.rows(proposal) if counting is not None else ballot_rows(proposal)


def restore_comment(decision: Decision) -> None:
    """An appeal adopted: the hidden comment (or proposal text) is shown again."""
    proposal = decision.proposal
    if proposal.hidden_proposal_id is not None:
        restore_proposal_text(decision)
        return
    comment = proposal.comment
    comment.hidden_at, comment.hidden_by, comment.hidden_reason = None, None, ""
    comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    append(proposal.council, kind="comment.restored", subject=comment.subject, state=comment.record_state(),
           at=decision.decided_at, decision=decision.pk)
    set_content_hidden(comment.subject, None)


def restore_proposal_text(decision: Decision) -> None:
    """An appeal adopted: the hidden text of a proposal is shown again."""
    target = decision.proposal.hidden_proposal
    target.hidden_at, target.hidden_by, target.hidden_reason = None, None, ""
    target.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    append(decision.proposal.council, kind="proposal.restored", subject=target.subject, state=target.record_state(),
           at=decision.decided_at, decision=decision.pk)
    set_content_hidden(target.subject, None)


def adopt_amendment(decision: Decision) -> None:
    proposal = decision.proposal
    _replace_passage(proposal.parent, proposal, decision.decided_at, actor=None, how="adopted by vote")


def install_officers(decision: Decision) -> None:
    proposal = decision.proposal
    council, at = proposal.council, decision.decided_at
    for office in Office.objects.filter(council=council, role=proposal.office, ended_at__isnull=True, ends_at__gt=at):
        office.ended_at = at
        office.save(update_fields=["ended_at"])
        append(council, kind="office.ended", subject=office.subject, state=office.record_state(), at=at, decision=decision.pk)
    by_label = {o.label: o for o in proposal.options.all()}
    limit = council.charter.officer_term_limit
    for label in decision.winners:
        holder = by_label[label].member
        if holder is None or membership_of(holder, council) is None:
            continue  # a winner who has left the council takes no office
        # Rotation is checked when the office is taken: another election may have seated the winner since this opened.
        if consecutive_office_terms(holder, council, proposal.office, before=decision) >= limit:
            append(council, kind="office.not_taken", subject=decision.subject, state=decision.record_state(), at=at,
                   member=holder.username, reason=f"served {limit} consecutive terms as {proposal.office}: the charter asks for rotation")
            continue
        office = Office.objects.create(council=council, role=proposal.office, holder=holder, starts_at=at,
                                       ends_at=at + council.charter.officer_term, elected_by=decision)
        append(council, kind="office.taken", subject=office.subject, state=office.record_state(), at=at, decision=decision.pk)


def consecutive_office_terms(member, council: Council, role: str, *, before: Decision | None = None) -> int:
    """How many of the council's latest elections to ``role``, in a row, gave this member the office (``before``: only
    those decided before this decision, when seating its winners)."""
    elections = Proposal.objects.filter(council=council, kind=ProposalKind.ELECTION, office=role,
                                        decision__outcome=Outcome.DECIDED).order_by("-voting_ends", "-pk")
    if before is not None:
        elections = elections.exclude(decision=before).filter(voting_ends__lte=before.decided_at)
    count = 0
    for election in elections.select_related("decision"):
        if Office.objects.filter(elected_by=election.decision, holder=member).exists():
            count += 1
        else:
            break
    return count


def overruling_referendum(decision: Decision) -> Proposal | None:
    """The vote that overruled ``decision``: a vote put to the members on whether it stands (``overrules``), rejected."""
    return (Proposal.objects.filter(overrules=decision, decision__outcome=Outcome.REJECTED)
            .select_related("council").order_by("voting_ends", "pk").first())


def get_decision(proposal: Proposal, now: datetime | None = None) -> Decision | None:
    now = now or clock.now()
    if proposal.state(now) != ProposalState.CLOSED:
        return None
    settle_due(proposal.council, now)
    return Decision.objects.filter(proposal=proposal).first()


def call_fallback_round(actor, proposal: Proposal) -> Proposal:
    """After a consensus failed on blocks, any member may call the second round the charter allows."""
    now = clock.now()
    council = proposal.council
    decision = get_decision(proposal, now)
    require_member(actor, council, gettext("call a second round"))
    if proposal.decision_method != DecisionMethod.CONSENSUS or decision is None:
        raise Invalid(gettext("a second round follows a decided consensus vote"), field="proposal")
    if proposal.consensus_fallback is None:
        raise NotAllowed(gettext("The charter allows no fallback vote after a failed consensus."))
    if decision.outcome != Outcome.REJECTED or decision.blocks == 0:
        raise Invalid(gettext("a second round follows only a consensus that failed on blocks"), field="proposal")
    if Proposal.objects.filter(fallback_of=proposal).exists():
        raise Conflict(gettext("the second round has already been called"))
    with transaction.atomic():
        signed = member_act(actor, act="proposal.fallback", council=council, object=proposal.subject, content={}, now=now)
        return new_proposal(
            council, actor, now, signed=signed, kind=proposal.kind, title=f"Second round: {proposal.title}"[:200], body=proposal.body,
            deliberation_ends=now, voting_ends=now + council.charter.voting_period, decision_method=DecisionMethod.FALLBACK,
            fallback_of=proposal, secret=proposal.secret, subject_member=proposal.subject_member, federation=proposal.federation,
        )


# ----- after the decision ---------------------------------------------------------


def on_losing_side(user, decision: Decision) -> bool:
    proposal = decision.proposal
    if proposal.secret:
        # Who voted how is unknowable by design: anyone who voted may speak for the minority.
        return VoterRegister.objects.filter(proposal=proposal, voter=user).exists()
    ballot = Ballot.objects.filter(proposal=proposal, voter=user).first()
    if ballot is None:
        return False
    if proposal.is_yes_no or proposal.is_consensus:
        losing = {Outcome.ADOPTED: {"no", "block"}, Outcome.REJECTED: {"yes", "agree"}}.get(decision.outcome, set())
        return ballot.choice in losing
    labels = {o.pk: o.label for o in proposal.options.all()}
    content = ballot.content
    if proposal.decision_method == DecisionMethod.APPROVAL:
        supported = {labels[i] for i in content or []}
    elif proposal.decision_method == DecisionMethod.SCORE:
        best = max((content or {}).values(), default=0)
        supported = {labels[int(i)] for i, s in (content or {}).items() if s == best and best > 0}
    else:
        supported = {labels[i] for i in (content[0] if content else [])}
    return bool(supported) and not supported & set(decision.winners)


def add_minority_report(actor, decision: Decision, body: str) -> MinorityReport:
    now = clock.now()
    council = decision.proposal.council
    require_member(actor, council, gettext("write a minority report"))
    if not on_losing_side(actor, decision):
        raise NotAllowed(gettext("A minority report is written by members who voted on the losing side."))
    body = refuse_control_characters((body or "").strip(), "body")
    if not body:
        raise Invalid(gettext("a minority report cannot be empty"), field="body")
    if len(body) > 20_000:
        raise Invalid(gettext("a minority report has at most 20,000 characters"), field="body")
    if MinorityReport.objects.filter(decision=decision, author=actor).exists():
        raise Conflict(gettext("You have already attached a minority report to this decision."))
    with transaction.atomic():
        signed = member_act(actor, act="minority_report.attach", council=council, object=decision.subject, now=now,
                            content_sha256=_text_digest({"body": body}))
        report = MinorityReport.objects.create(decision=decision, author=actor, body=body, created_at=now)
        append(council, kind="minority_report.attached", subject=report.subject, state=report.record_state(), at=now, actor=actor,
               signed=signed)
    return report


def proposals_awaiting_ballot(user, now: datetime | None = None):
    """Votes open now in the user's councils where they have not voted yet."""
    now = now or clock.now()
    if not getattr(user, "is_authenticated", False):
        return Proposal.objects.none()
    return (
        Proposal.objects.filter(
            council__memberships__member=user, council__memberships__left_at__isnull=True,
            deliberation_ends__lte=now, voting_ends__gt=now, published_at__isnull=False,
            withdrawn_at__isnull=True, accepted_at__isnull=True,
        )
        .exclude(ballots__voter=user)
        .exclude(register__voter=user)
        .select_related("council")
        .distinct()
        .order_by("voting_ends")
    )


def check_ballot_digests() -> list[tuple[str, str]]:
    """For `councils verify`: every decided vote's ballots still hash to the digest its decision recorded,
    and no secret vote holds more ballots than registered voters."""
    problems = []
    for decision in Decision.objects.select_related("proposal", "proposal__council"):
        proposal = decision.proposal
        if digest(rows_of(proposal)) != decision.ballots_digest:
            problems.append((decision.subject, "ballots no longer match the digest the decision recorded (altered behind the application's back)"))
    for proposal in Proposal.objects.filter(secret=True):
        if proposal.secret_ballots.count() != proposal.register.count():
            problems.append((proposal.subject, "secret ballots and registered voters differ in number (ballot stuffing or removal)"))
        if hasattr(proposal, "decision"):
            continue  # decided: the decision's digest covers the ballots
        # Open (or closed and not yet counted): the box must be as its last seal in the record left it.
        last = record_entries(proposal.council).filter(subject=f"box:{proposal.pk}").order_by("-seq").first()
        if last is None:
            if proposal.secret_ballots.exists():
                problems.append((proposal.subject, "secret ballots in a box the record never sealed (ballot stuffing)"))
        elif last.data.get("state") != box_seal(proposal):
            problems.append((proposal.subject, "the secret ballot box differs from its last seal in the record (a ballot "
                                               "flipped, added or removed behind the application's back)"))
    return problems
