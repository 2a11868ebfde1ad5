"""Notification emails (vote opened, closing within a day, decided) and the voting-deadline calendar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.http import Http404
from django.test import RequestFactory

from councils.accounts.models import SentNotification
from councils.accounts.services import email_notifications_on, set_email_notifications
from councils.assemblies.services import leave_council
from councils.decisions import notifications
from councils.decisions.feeds import council_calendar, escape_text, fold
from councils.decisions.notifications import send_due_notifications
from councils.decisions.services import cast_ballot, withdraw_proposal

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def council(make_council, members_of):
    """A council of three members, each with an email address."""
    council = make_council(members=2)
    for member in members_of(council):
        member.email = f"{member.username}@example.org"
        member.save(update_fields=["email"])
    return council


def recipients(kind_words: str) -> list[str]:
    return sorted(message.to[0] for message in mail.outbox if kind_words in message.subject)


def emails(users) -> list[str]:
    return sorted(user.email for user in users)


# --- vote opened -------------------------------------------------------------------------------


def test_vote_opened_is_sent_once_to_each_member(council, members_of, make_proposal, clock):
    proposal = make_proposal(council, title="Buy a van", deliberation=timedelta(hours=1), voting=3 * DAY)
    assert send_due_notifications() == 0  # still in deliberation

    clock.advance(hours=1)
    assert send_due_notifications() == 3
    assert recipients("Voting is open") == emails(members_of(council))
    message = mail.outbox[0]
    assert message.subject == f"[{council.name}] Voting is open: Buy a van"
    assert proposal.get_absolute_url() in message.body

    clock.advance(hours=1)
    assert send_due_notifications() == 0
    assert len(mail.outbox) == 3


def test_email_body_is_plain_text_not_html_escaped(council, make_proposal, clock):
    make_proposal(council, title="Tools & <materials>", voting=3 * DAY)
    clock.advance(hours=1)
    send_due_notifications()
    assert "Tools & <materials>" in mail.outbox[0].body
    assert "&amp;" not in mail.outbox[0].body


def test_vote_opened_is_not_sent_when_worker_was_down_for_over_a_week(council, make_proposal, clock):
    make_proposal(council, deliberation=timedelta(hours=1), voting=30 * DAY)
    clock.advance(days=9)
    assert send_due_notifications() == 0
    assert mail.outbox == []


def test_withdrawn_proposal_sends_nothing(council, members_of, make_proposal, clock):
    proposal = make_proposal(council, voting=3 * DAY)
    withdraw_proposal(proposal.author, proposal)
    clock.advance(days=4)
    assert send_due_notifications() == 0


def test_draft_sends_nothing(council, make_proposal, clock):
    make_proposal(council, voting=3 * DAY, draft=True)
    clock.advance(hours=2)
    assert send_due_notifications() == 0


# --- closing within a day ----------------------------------------------------------------------


def test_closing_reminder_goes_only_to_members_who_have_not_voted(council, members_of, make_proposal, clock):
    voter, *others = members_of(council)
    proposal = make_proposal(council, deliberation=timedelta(hours=1), voting=3 * DAY)
    clock.advance(hours=1)
    send_due_notifications()
    cast_ballot(voter, proposal, "yes")

    clock.set(proposal.voting_ends - timedelta(hours=25))
    assert send_due_notifications() == 0  # not yet a day before the close
    clock.set(proposal.voting_ends - timedelta(hours=12))
    assert send_due_notifications() == 2
    assert recipients("closes within a day") == emails(others)
    assert send_due_notifications() == 0


def test_closing_reminder_counts_secret_votes_through_the_register(council, members_of, make_proposal, clock):
    voter, *others = members_of(council)
    proposal = make_proposal(council, voting=3 * DAY, secret=True)
    clock.advance(hours=1)
    cast_ballot(voter, proposal, "yes")
    clock.set(proposal.voting_ends - timedelta(hours=1))
    send_due_notifications()
    assert recipients("closes within a day") == emails(others)


def test_vote_shorter_than_a_day_has_no_closing_reminder(council, make_proposal, clock):
    proposal = make_proposal(council, deliberation=timedelta(hours=1), voting=timedelta(hours=6))
    clock.advance(hours=2)
    assert send_due_notifications() == 3
    clock.set(proposal.voting_ends - timedelta(minutes=1))
    assert send_due_notifications() == 0
    assert recipients("closes within a day") == []


def test_worker_back_in_the_last_day_sends_the_reminder_not_a_late_opening_notice(council, make_proposal, clock):
    proposal = make_proposal(council, voting=3 * DAY)
    clock.set(proposal.voting_ends - timedelta(hours=2))
    assert send_due_notifications() == 3
    assert recipients("Voting is open") == []
    assert len(recipients("closes within a day")) == 3


# --- decided -----------------------------------------------------------------------------------


def test_decided_is_sent_after_the_close_with_the_outcome(council, members_of, make_proposal, clock):
    proposal = make_proposal(council, title="Paint the door", voting=timedelta(hours=2))
    clock.advance(hours=1)
    for member in members_of(council):
        cast_ballot(member, proposal, "yes")
    send_due_notifications()
    assert recipients("Decided") == []

    clock.set(proposal.voting_ends)
    assert send_due_notifications() == 3  # the decision is written first, then announced
    assert recipients("Decided") == emails(members_of(council))
    decided = [m for m in mail.outbox if "Decided" in m.subject][0]
    assert decided.subject == f"[{council.name}] Decided: Paint the door"
    assert "Outcome: Adopted" in decided.body
    assert send_due_notifications() == 0


def test_decided_is_not_sent_more_than_a_week_after_the_close(council, make_proposal, clock):
    proposal = make_proposal(council, voting=timedelta(hours=2))
    clock.set(proposal.voting_ends + timedelta(days=8))
    assert send_due_notifications() == 0
    proposal.refresh_from_db()
    assert proposal.decision.decided_at == proposal.voting_ends  # decided all the same


# --- who receives ------------------------------------------------------------------------------


def test_member_who_switched_notifications_off_gets_nothing(council, members_of, make_proposal, clock):
    quiet, *others = members_of(council)
    set_email_notifications(quiet, False)
    assert not email_notifications_on(quiet)
    proposal = make_proposal(council, voting=3 * DAY)
    clock.advance(hours=1)
    send_due_notifications()
    clock.set(proposal.voting_ends - timedelta(hours=1))
    send_due_notifications()
    clock.set(proposal.voting_ends)
    send_due_notifications()
    assert quiet.email not in [m.to[0] for m in mail.outbox]
    assert len(mail.outbox) == 3 * len(others)


def test_switching_notifications_back_on(council, members_of):
    member = members_of(council)[0]
    assert email_notifications_on(member)
    set_email_notifications(member, False)
    set_email_notifications(member, True)
    assert email_notifications_on(member)


def test_switching_notifications_needs_a_logged_in_person():
    from django.contrib.auth.models import AnonymousUser

    from councils.errors import NotAllowed

    with pytest.raises(NotAllowed):
        set_email_notifications(AnonymousUser(), False)


def test_member_who_left_the_council_gets_nothing(council, members_of, make_proposal, clock):
    *stay, leaver = members_of(council)
    leave_council(leaver, council)
    make_proposal(council, author=stay[0], voting=3 * DAY)
    clock.advance(hours=1)
    assert send_due_notifications() == len(stay)
    assert leaver.email not in [m.to[0] for m in mail.outbox]


def test_member_without_email_address_gets_nothing(council, members_of, make_proposal, clock):
    silent = members_of(council)[0]
    silent.email = ""
    silent.save(update_fields=["email"])
    make_proposal(council, voting=3 * DAY)
    clock.advance(hours=1)
    assert send_due_notifications() == 2


# --- several workers ---------------------------------------------------------------------------


def test_notice_claimed_by_another_worker_is_not_sent_again(council, members_of, make_proposal, clock):
    first, *others = members_of(council)
    proposal = make_proposal(council, voting=3 * DAY)
    clock.advance(hours=1)
    SentNotification.objects.create(user=first, proposal_id=proposal.pk, kind="opened", sent_at=clock.now())
    assert send_due_notifications() == 2
    assert recipients("Voting is open") == emails(others)


def test_worker_losing_the_claim_race_sends_nothing(council, members_of, make_proposal, clock, monkeypatch):
    proposal = make_proposal(council, voting=3 * DAY)
    clock.advance(hours=1)
    # Both workers found the same notices due; the other one claimed them first.
    seen = notifications.due_notices(clock.now())
    assert len(seen) == 3
    for notice in seen:
        SentNotification.objects.create(user=notice.user, proposal_id=proposal.pk, kind=notice.kind, sent_at=clock.now())
    monkeypatch.setattr(notifications, "due_notices", lambda now: seen)
    assert send_due_notifications() == 0
    assert mail.outbox == []


def test_failed_send_releases_the_claim_for_the_next_run(council, make_proposal, clock, monkeypatch):
    make_proposal(council, voting=3 * DAY)
    clock.advance(hours=1)

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", broken)
    assert send_due_notifications() == 0
    assert not SentNotification.objects.exists()
    monkeypatch.undo()
    assert send_due_notifications() == 3


# --- the command -------------------------------------------------------------------------------


def test_notify_command_sends_and_reports_how_many(council, make_proposal, clock, capsys):
    from councils.commands.notify import main

    make_proposal(council, voting=3 * DAY)
    clock.advance(hours=1)
    assert main(["--once"]) == 0
    assert "3 notification(s) sent" in capsys.readouterr().out
    assert main([]) == 0
    assert "0 notification(s) sent" in capsys.readouterr().out


def test_notify_command_loops_with_every(council, make_proposal, clock, monkeypatch, capsys):
    from councils.commands import notify

    make_proposal(council, voting=3 * DAY)
    clock.advance(hours=1)
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        raise KeyboardInterrupt

    monkeypatch.setattr(notify.time, "sleep", sleep)
    monkeypatch.setattr(notify, "close_old_connections", lambda: None, raising=False)
    assert notify.main(["--every", "300"]) == 0
    assert len(rounds) == 1 and 0 < rounds[0] <= 300
    assert "3 notification(s) sent" in capsys.readouterr().out


def test_notify_command_refuses_a_zero_interval(capsys):
    from councils.commands.notify import main

    with pytest.raises(SystemExit):
        main(["--every", "0"])


# --- the calendar ------------------------------------------------------------------------------


def calendar_of(council) -> tuple[str, bytes]:
    request = RequestFactory().get(f"/c/{council.slug}/calendar.ics")
    response = council_calendar(request, slug=council.slug)
    assert response.status_code == 200
    return response["Content-Type"], response.content


def parse(raw: bytes) -> list[tuple[str, str]]:
    """Unfold and split content lines (RFC 5545 3.1), checking the line rules on the way."""
    assert raw.endswith(b"\r\n")
    physical = raw.split(b"\r\n")[:-1]
    for line in physical:
        assert len(line) <= 75, line
        assert b"\n" not in line and b"\r" not in line
    text = b"\r\n".join(physical).decode("utf-8").replace("\r\n ", "")
    lines = []
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        lines.append((name, value))
    return lines


def events(lines) -> list[dict[str, str]]:
    found, current = [], None
    for name, value in lines:
        if (name, value) == ("BEGIN", "VEVENT"):
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            found.append(current)
            current = None
        elif current is not None:
            current[name] = value
    return found


def test_calendar_is_valid_icalendar_with_one_event_per_proposal(council, members_of, make_proposal, clock):
    author = members_of(council)[0]
    first = make_proposal(council, author, title="First", voting=3 * DAY)
    second = make_proposal(council, author, title="Second", deliberation=DAY, voting=3 * DAY)
    make_proposal(council, author, title="Still a draft", draft=True)
    withdrawn = make_proposal(council, author, title="Withdrawn")
    withdraw_proposal(author, withdrawn)

    content_type, raw = calendar_of(council)
    assert content_type.startswith("text/calendar")
    lines = parse(raw)
    assert lines[0] == ("BEGIN", "VCALENDAR")
    assert lines[-1] == ("END", "VCALENDAR")
    assert ("VERSION", "2.0") in lines
    assert any(name == "PRODID" for name, _ in lines)
    found = events(lines)
    assert [e["SUMMARY"] for e in found] == ["Vote: First", "Vote: Second"]
    for event, proposal in zip(found, [first, second]):
        assert event["UID"] == f"proposal-{proposal.pk}@testserver"
        assert event["DTSTAMP"] == "20300302T090000Z"
        assert event["DTSTART"] == proposal.deliberation_ends.strftime("%Y%m%dT%H%M%SZ")
        assert event["DTEND"] == proposal.voting_ends.strftime("%Y%m%dT%H%M%SZ")
        assert event["URL"] == "http://testserver" + proposal.get_absolute_url()
        assert "Members vote on the proposal's page" in event["DESCRIPTION"]
    assert found[0]["DTEND"] == "20300305T100000Z"  # 09:00 + 1 h deliberation + 3 days of voting, in UTC


def test_calendar_escapes_commas_semicolons_and_backslashes(council, make_proposal, clock):
    make_proposal(council, title="Rent, repairs; and a back\\slash", voting=3 * DAY)
    _, raw = calendar_of(council)
    (event,) = events(parse(raw))
    assert event["SUMMARY"] == "Vote: Rent\\, repairs\\; and a back\\\\slash"


def test_calendar_folds_long_lines_without_splitting_characters(council, make_proposal, clock):
    title = "Ämter und Zuständigkeiten für die Werkstatt " * 4
    make_proposal(council, title=title.strip(), voting=3 * DAY)
    _, raw = calendar_of(council)  # parse() checks each physical line is at most 75 octets
    (event,) = events(parse(raw))
    assert event["SUMMARY"] == "Vote: " + title.strip()


def test_fold_and_escape_follow_rfc_5545():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = fold("X" * 200)
    assert [len(p) for p in folded.split("\r\n")] == [75, 75, 52]
    assert folded.replace("\r\n ", "") == "X" * 200


def test_calendar_of_unknown_council_is_not_found(db):
    request = RequestFactory().get("/c/nowhere/calendar.ics")
    with pytest.raises(Http404):
        council_calendar(request, slug="nowhere")
