"""Notification emails: a vote opened, a vote closes within a day, a vote was decided, a proposal's deadlines moved.

Nothing here changes what happens: votes open and close at their stored
moments whether or not a worker runs (DESIGN section 4). A worker only tells
people, through ``send_due_notifications``, which is safe to run from several
processes at once: each notice is claimed by inserting its ``SentNotification``
row first, and the unique constraint lets only one process win the claim.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from councils import clock
from councils.accounts.models import MemberSettings, NotificationKind, SentNotification
from councils.assemblies.models import Membership
from councils.decisions.models import Ballot, Decision, Proposal, VoterRegister
from councils.decisions.services import settle_due

log = logging.getLogger(__name__)

# A notice not sent within this long after its moment is dropped: a worker
# that was down for a month must not flood everyone with stale news.
STALE_AFTER = timedelta(days=7)
# The reminder goes out this long before a vote closes, to those who have not voted.
CLOSING_NOTICE = timedelta(hours=24)


@dataclass(frozen=True)
class Notice:
    user: object
    proposal: Proposal
    kind: str


def site_url() -> str:
    """The address links in emails start with: ``settings.SITE_URL`` or ``$COUNCILS_SITE_URL``."""
    url = getattr(settings, "SITE_URL", None) or os.environ.get("COUNCILS_SITE_URL") or "http://localhost:8000"
    return url.rstrip("/")


def send_due_notifications(now: datetime | None = None) -> int:
    """Send every notice that is due and not yet sent. Returns how many emails went out."""
    now = now or clock.now()
    settle_due(None, now)
    sent = 0
    for notice in due_notices(now):
        if not _claim(notice, now):
            continue  # another worker has it
        try:
            _send(notice)
        except Exception:
            # Give the claim back so a later run tries again, and carry on with the others.
            log.exception("could not send the %s notice of proposal %s to %s", notice.kind, notice.proposal.pk, notice.user)
            SentNotification.objects.filter(user=notice.user, proposal_id=notice.proposal.pk, kind=notice.kind).delete()
            continue
        sent += 1
    return sent


def _live() -> dict:
    return {"published_at__isnull": False, "withdrawn_at__isnull": True, "accepted_at__isnull": True}


def _has_reminder(proposal: Proposal) -> bool:
    """Only a vote open longer than a day has a moment "a day before it closes";
    for a shorter one the opening notice already gives the deadline."""
    return proposal.voting_ends - proposal.deliberation_ends > CLOSING_NOTICE


def due_notices(now: datetime) -> list[Notice]:
    """Every notice due at ``now`` that has not been claimed yet. Each notice is due
    from its moment until it is stale or superseded:

    - opened: from the vote's opening, until a week later, the close, or (for votes
      with a reminder) the reminder's moment, whichever comes first;
    - closing: from a day before the close until the close, to members who have not voted;
    - decided: from the close (the decision's moment) until a week later.
    """
    opened, closing = [], []
    voting = Proposal.objects.filter(**_live(), deliberation_ends__lte=now, voting_ends__gt=now).select_related("council")
    for proposal in voting:
        reminder_at = proposal.voting_ends - CLOSING_NOTICE
        if _has_reminder(proposal) and now >= reminder_at:
            closing.append(proposal)
        elif now - proposal.deliberation_ends <= STALE_AFTER:
            opened.append(proposal)
    decided = [
        decision.proposal
        for decision in Decision.objects.filter(
            proposal__voting_ends__lte=now, proposal__voting_ends__gte=now - STALE_AFTER
        ).select_related("proposal__council", "proposal__decision")
    ]

    notices: list[Notice] = []
    for kind, proposals in ((NotificationKind.OPENED, opened), (NotificationKind.CLOSING, closing),
                            (NotificationKind.DECIDED, decided), (NotificationKind.MOVED, _moved(now))):
        for proposal in proposals:
            recipients = _recipients(proposal)
            if not recipients:
                continue
            already = set(SentNotification.objects.filter(proposal_id=proposal.pk, kind=kind).values_list("user_id", flat=True))
            if kind == NotificationKind.CLOSING:
                already |= set(Ballot.objects.filter(proposal=proposal).values_list("voter_id", flat=True))
                already |= set(VoterRegister.objects.filter(proposal=proposal).values_list("voter_id", flat=True))
            notices.extend(Notice(user, proposal, kind) for user in recipients if user.pk not in already)
    return notices


def _moved(now: datetime) -> list[Proposal]:
    """Proposals rescheduled within the last week and not yet closed: every member is told of each reschedule (the
    reschedule clears the earlier notices, so a second one is sent again)."""
    from councils.record.models import RecordEntry
    from councils.record.services import stamp

    subjects = set(RecordEntry.objects.filter(kind="proposal.rescheduled", at__gte=stamp(now - STALE_AFTER))
                   .values_list("subject", flat=True))
    ids = [int(subject.split(":", 1)[1]) for subject in subjects if subject.startswith("proposal:")]
    return list(Proposal.objects.filter(pk__in=ids, **_live(), voting_ends__gt=now, parent__isnull=True).select_related("council"))


def _recipients(proposal: Proposal) -> list:
    """Current members of the proposal's council with an email address who have not switched notices off."""
    members = [
        m.member for m in Membership.objects.filter(council_id=proposal.council_id, left_at__isnull=True)
        .select_related("member").order_by("pk")
        if m.member.is_active and m.member.email
    ]
    off = set(MemberSettings.objects.filter(user__in=members, email_notifications=False).values_list("user_id", flat=True))
    return [member for member in members if member.pk not in off]


def _claim(notice: Notice, now: datetime) -> bool:
    try:
        with transaction.atomic():
            SentNotification.objects.create(user=notice.user, proposal_id=notice.proposal.pk, kind=notice.kind, sent_at=now)
    except IntegrityError:
        return False
    return True


SUBJECTS = {
    NotificationKind.OPENED: gettext_lazy("Voting is open: %(title)s"),
    NotificationKind.CLOSING: gettext_lazy("Voting closes within a day: %(title)s"),
    NotificationKind.DECIDED: gettext_lazy("Decided: %(title)s"),
    NotificationKind.MOVED: gettext_lazy("Deadlines moved: %(title)s"),
}


def _send(notice: Notice) -> None:
    proposal = notice.proposal
    base = site_url()
    context = {
        "user": notice.user,
        "proposal": proposal,
        "council": proposal.council,
        "decision": getattr(proposal, "decision", None) if notice.kind == NotificationKind.DECIDED else None,
        "proposal_url": base + proposal.get_absolute_url(),
        "profile_url": base + reverse("profile"),
    }
    body = render_to_string(f"decisions/email/{notice.kind}.txt", context)
    subject = f"[{proposal.council.name}] " + SUBJECTS[notice.kind] % {"title": proposal.title}
    # A subject is one line: a title cannot inject headers.
    subject = " ".join(subject.split())
    send_mail(subject, body.strip() + "\n", None, [notice.user.email], fail_silently=False)


def tell_withdrawn(proposal: Proposal, voter_ids: list[int]) -> int:
    """Tell those who had voted that the proposal was withdrawn and their ballot is void (after the act's commit).

    Everyone who voted and has a confirmed address is told, whatever their notification setting: this is not news
    of the council but an answer about their own ballot. A failed email is logged; the withdrawal stands."""
    from django.contrib.auth import get_user_model

    base = site_url()
    sent = 0
    for user in get_user_model().objects.filter(pk__in=voter_ids, is_active=True).exclude(email="").order_by("pk"):
        body = render_to_string("decisions/email/withdrawn.txt", {
            "user": user, "proposal": proposal, "council": proposal.council,
            "proposal_url": base + proposal.get_absolute_url(), "profile_url": base + reverse("profile"),
        })
        subject = " ".join((f"[{proposal.council.name}] " + gettext("Withdrawn, your ballot is void: %(title)s")
                            % {"title": proposal.title}).split())
        try:
            send_mail(subject, body.strip() + "\n", None, [user.email], fail_silently=False)
        except Exception:
            log.exception("could not tell %s that proposal %s was withdrawn", user, proposal.pk)
            continue
        sent += 1
    return sent
