"""Congresses: convened by the member councils, never cancelled by anyone else; attendance, agenda, speakers, minutes, live view."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.decisions.models import Proposal
from councils.decisions.services import create_proposal
from councils.errors import Closed, Conflict, Invalid, NotAllowed
from councils.federation import congress as congresses
from councils.federation.models import Congress, Speaker
from councils.federation.petitions import open_petition, progress
from councils.federation.services import cast_free_vote, create_federation_proposal
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def back(clock, decide, council, petition, kind="convocation", choice="yes"):
    """``council`` decides, by its own vote, to back ``petition``."""
    author = council.memberships.filter(left_at__isnull=True).first().member
    now = clock.now()
    demand = create_proposal(author, council, kind=kind, federation=petition.federation, petition=petition,
                             title=f"Back: {petition.title}", deliberation_ends=now, voting_ends=now + timedelta(hours=2))
    return decide(demand, choice)


@pytest.fixture
def in_session(clock, decide, federation_of, members_of):
    """A federation whose first council alone (share 0.1) demanded a congress; the clock stands at its opening."""

    def build(sizes=(2, 2), **kwargs):
        federation, councils = federation_of(list(sizes), charter={"competences": ["bread"], "convocation_share": "0.1"},
                                             **kwargs)
        petition = open_petition(members_of(councils[0])[1], federation, kind="convocation", title="Spring congress")
        back(clock, decide, councils[0], petition)
        congress = Congress.objects.get(federation=federation)
        clock.set(congress.starts_at)
        delegates = [members_of(c)[0] for c in councils]
        return federation, councils, congress, delegates

    return build


def test_convocation_fires_exactly_at_the_share_not_below_and_a_council_that_left_does_not_count(
        clock, decide, federation_of, members_of):
    federation, (a, b, c) = federation_of([2, 2, 2], charter={"competences": ["bread"], "convocation_share": "0.6"})
    petition = open_petition(members_of(a)[1], federation, kind="convocation", title="Extraordinary congress")
    back(clock, decide, a, petition)
    assert not Congress.objects.exists()  # 1 of the 2 councils needed
    now = clock.now()
    leaving = create_proposal(members_of(a)[0], a, kind="disaffiliation", federation=federation, title="Leave",
                              deliberation_ends=now, voting_ends=now + timedelta(hours=1))
    decide(leaving, "yes")
    back(clock, decide, b, petition)
    assert progress(petition)["councils"] == 1  # the council that left does not count
    assert not Congress.objects.exists()
    decision = back(clock, decide, c, petition)
    congress = Congress.objects.get()
    assert congress.convened_by == "petition" and congress.convened_at == decision.decided_at
    assert congress.starts_at == decision.decided_at + timedelta(days=14)  # the charter's convocation delay
    assert congresses.congress_state(congress, decision.decided_at) == "scheduled"
    assert congresses.congress_state(congress, congress.starts_at) == "in_session"
    assert congresses.congress_state(congress, congress.ends_at) == "ended"


def test_no_officer_or_delegate_can_cancel_or_postpone_only_a_cancellation_petition_at_the_share(
        clock, decide, federation_of, members_of):
    federation, (a, b) = federation_of([2, 2], charter={"competences": ["bread"], "convocation_share": "0.5"})
    back(clock, decide, a, open_petition(members_of(a)[1], federation, kind="convocation", title="Congress"))
    congress = Congress.objects.get()
    founder = federation.memberships.first().member if federation.memberships.exists() else None
    starts = congress.starts_at
    # (Every page, API route and service tried as each role: tests/test_every_route.py.)
    for user in filter(None, [members_of(a)[0], founder]):
        api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'tests')[1]}")
        for method in ("delete", "patch", "put"):
            assert getattr(api, method)(f"/api/congresses/{congress.pk}", content_type="application/json").status_code == 405
        for path in ("cancel", "postpone"):
            assert api.post(f"/api/congresses/{congress.pk}/{path}", content_type="application/json").status_code in (404, 405)
        page = Client()
        page.force_login(user)
        base = f"/c/{federation.slug}/congress/{congress.pk}/"
        assert page.post(base).status_code == 405
        assert page.post(base + "cancel/").status_code == 404
        assert page.post(base + "postpone/").status_code == 404
    congress.refresh_from_db()
    assert congress.cancelled_at is None and congress.starts_at == starts
    cancel = open_petition(members_of(b)[1], federation, kind="cancel_congress", title="Not needed", congress=congress)
    back(clock, decide, b, cancel, kind="cancel_congress")
    congress.refresh_from_db()
    assert congress.cancelled_at is not None and congresses.congress_state(congress, starts) == "cancelled"
    clock.set(starts)
    with pytest.raises(Closed):
        congresses.register_attendance(members_of(a)[0], congress)


def test_attendance_only_while_in_session_and_only_delegates(clock, in_session, members_of):
    federation, councils, congress, (first, second) = in_session()
    clock.set(congress.starts_at - timedelta(minutes=1))
    with pytest.raises(Closed):
        congresses.register_attendance(first, congress)
    clock.set(congress.starts_at)
    with pytest.raises(NotAllowed):
        congresses.register_attendance(members_of(councils[0])[1], congress)  # a member, not a delegate
    congresses.register_attendance(first, congress)
    with pytest.raises(Conflict):
        congresses.register_attendance(first, congress)
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="congress.attendance").count() == 1
    clock.set(congress.ends_at)
    with pytest.raises(Closed):
        congresses.register_attendance(second, congress)
    assert congresses.chair_of(congress, congress.ends_at).member == first


def test_agenda_keeps_order_and_takes_only_open_proposals_of_this_federation(clock, in_session, members_of, make_council):
    federation, councils, congress, (first, second) = in_session()
    one = create_federation_proposal(first, federation, title="Shared oven", matter="bread")
    two = create_federation_proposal(second, federation, title="Flour pool", matter="bread")
    with pytest.raises(NotAllowed):
        congresses.add_to_agenda(members_of(councils[0])[1], congress, one)
    congresses.add_to_agenda(second, congress, two)
    congresses.add_to_agenda(first, congress, one)
    with pytest.raises(Conflict):
        congresses.add_to_agenda(first, congress, one)
    assert [(i.position, i.proposal) for i in congresses.agenda_of(congress)] == [(1, two), (2, one)]
    mandate = Proposal.objects.filter(mandate_for=one).first()
    with pytest.raises(Invalid):
        congresses.add_to_agenda(first, congress, mandate)  # a council's mandate vote is not the federation's
    # The chair (first present) takes up items in order.
    congresses.register_attendance(first, congress)
    congresses.register_attendance(second, congress)
    with pytest.raises(NotAllowed):
        congresses.advance_agenda(second, congress)
    assert congresses.advance_agenda(first, congress).current_item == two
    assert congresses.advance_agenda(first, congress).current_item == one
    with pytest.raises(Closed):
        congresses.advance_agenda(first, congress)
    clock.set(one.voting_ends + timedelta(seconds=1))
    later = Congress.objects.create(federation=federation, title="Later", convened_at=clock.now(), convened_by="decision",
                                    starts_at=clock.now() + timedelta(days=1), ends_at=clock.now() + timedelta(days=2))
    with pytest.raises(Invalid):
        congresses.add_to_agenda(first, later, one)  # decided already


def test_speakers_list_runs_in_order_of_request_with_time_limits(clock, in_session, members_of):
    federation, councils, congress, (first, second) = in_session()
    item = create_federation_proposal(first, federation, title="Shared oven", matter="bread")
    congresses.add_to_agenda(first, congress, item)
    congresses.register_attendance(first, congress)
    congresses.advance_agenda(first, congress)
    member = members_of(councils[1])[1]  # a member of a member council may speak too
    congresses.request_to_speak(second, congress)
    clock.advance(seconds=5)
    congresses.request_to_speak(member, congress)
    with pytest.raises(Conflict):
        congresses.request_to_speak(member, congress)
    with pytest.raises(NotAllowed):
        congresses.next_speaker(second, congress)
    with pytest.raises(Invalid):
        congresses.next_speaker(first, congress, limit_seconds=5)
    speaking = congresses.next_speaker(first, congress, limit_seconds=120)
    assert speaking.member == second
    clock.advance(seconds=100)
    assert congresses.time_left(speaking, clock.now()) == 20
    clock.advance(seconds=30)
    snap = congresses.snapshot(congress, clock.now())
    assert snap["speaker"]["member"] == second.username and snap["speaker"]["over_time"] and snap["speaker"]["time_left"] == -10
    assert snap["waiting"] == [member.username]
    assert congresses.next_speaker(first, congress).member == member
    speaking.refresh_from_db()
    assert speaking.ended_at == clock.now()
    assert congresses.next_speaker(first, congress) is None
    assert Speaker.objects.filter(congress=congress, ended_at__isnull=True).count() == 0
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="congress.floor_given").count() == 2
    clock.set(congress.ends_at)
    with pytest.raises(Closed):
        congresses.request_to_speak(member, congress)


def test_the_secretary_writes_the_minutes_and_the_delegates_present_approve_them(clock, in_session, members_of):
    federation, councils, congress, (first, second, third) = in_session((2, 2, 2))
    congresses.register_attendance(first, congress)
    congresses.register_attendance(second, congress)
    with pytest.raises(NotAllowed):
        congresses.write_minutes(second, congress, "My version")
    congresses.write_minutes(first, congress, "We met and agreed on the oven.")
    proposal = congresses.submit_minutes(first, congress)
    assert proposal.voting_ends == congress.ends_at and proposal.body == "We met and agreed on the oven."
    with pytest.raises(Closed):
        congresses.write_minutes(first, congress, "Changed while they vote")
    with pytest.raises(NotAllowed):
        congresses.vote_on_minutes(third, congress, "no")  # did not attend
    congresses.vote_on_minutes(first, congress, "yes")
    congresses.vote_on_minutes(second, congress, "yes")
    clock.set(congress.ends_at + timedelta(seconds=1))
    congresses.settle_congresses(federation)
    congress.refresh_from_db()
    assert congress.minutes_approved_by is not None and congress.minutes_approved_by.proposal == proposal
    assert RecordEntry.objects.filter(chain=federation.record_chain, kind="congress.minutes_approved").exists()
    with pytest.raises(Closed):
        congresses.write_minutes(first, congress, "After approval")


def test_a_scheduled_congress_is_dated_by_the_member_councils_mandates(clock, decide, federation_of, members_of):
    federation, (a, b) = federation_of([2, 2])
    now = clock.now()
    early, late = now + timedelta(days=30), now + timedelta(days=40)
    with pytest.raises(NotAllowed):
        congresses.propose_congress(members_of(a)[1], federation, title="Summer congress", dates=[early])
    with pytest.raises(Invalid):
        congresses.propose_congress(members_of(a)[0], federation, title="Too soon", dates=[now + timedelta(days=1)])
    proposal = congresses.propose_congress(members_of(a)[0], federation, title="Summer congress", dates=[early, late])
    labels = [o.label for o in proposal.options.all()]
    assert labels == [congresses.date_label(early), congresses.date_label(late), congresses.NO_CONGRESS]
    for council in (a, b):
        mandate = Proposal.objects.get(council=council, mandate_for=proposal)
        ids = {o.label: o.pk for o in mandate.options.all()}
        decide(mandate, {"ranking": [ids[labels[1]], ids[labels[0]], ids[congresses.NO_CONGRESS]]}, close=False)
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    congresses.settle_congresses(federation)
    congress = Congress.objects.get(federation=federation)
    assert congress.convened_by == "decision" and congress.starts_at == late.replace(second=0, microsecond=0)
    assert congress.convened_at == proposal.voting_ends
    congresses.settle_congresses(federation)
    assert Congress.objects.filter(federation=federation).count() == 1


@pytest.fixture
def keep_test_connection():
    """A streamed response finishes outside the test client's request, where Django's request_finished signal would
    close the test's own database connection (and its transaction) on PostgreSQL."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_live_events_and_the_projector_show_item_speaker_and_tally(clock, in_session, members_of, keep_test_connection):
    federation, councils, congress, (first, second) = in_session(mandate="free")
    now = clock.now()
    item = create_federation_proposal(first, federation, title="Shared oven", matter="bread",
                                      mandates_due=now + timedelta(minutes=1), voting_ends=now + timedelta(hours=2))
    congresses.add_to_agenda(first, congress, item)
    congresses.register_attendance(first, congress)
    congresses.advance_agenda(first, congress)
    congresses.request_to_speak(second, congress)
    congresses.next_speaker(first, congress)
    clock.advance(minutes=2)
    cast_free_vote(first, item, {"choice": "yes"})
    response = Client().get(f"/c/{federation.slug}/congress/{congress.pk}/events")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    chunk = next(iter(response.streaming_content))
    chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
    data = json.loads(next(line for line in chunk.splitlines() if line.startswith("data: "))[len("data: "):])
    assert data["item"]["title"] == "Shared oven" and data["speaker"]["member"] == second.username
    assert {r["label"]: r["value"] for r in data["tally"]["rows"]}["Yes"] == 1 and "<svg" in data["chart"]
    assert chunk.startswith("retry: ") and len(list(response.streaming_content)) == 0  # one event, then the stream ends
    # Polling: the same state as JSON, and 304 while it has not changed.
    live = Client().get(f"/c/{federation.slug}/congress/{congress.pk}/live")
    assert live.status_code == 200 and live.json()["item"]["title"] == "Shared oven" and live["ETag"]
    again = Client().get(f"/c/{federation.slug}/congress/{congress.pk}/live", HTTP_IF_NONE_MATCH=live["ETag"])
    assert again.status_code == 304 and again["ETag"] == live["ETag"]
    congresses.request_to_speak(first, congress)
    changed = Client().get(f"/c/{federation.slug}/congress/{congress.pk}/live", HTTP_IF_NONE_MATCH=live["ETag"])
    assert changed.status_code == 200 and first.username in changed.json()["waiting"]
    page = Client().get(f"/c/{federation.slug}/congress/{congress.pk}/projector")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Shared oven" in html and second.username in html and "live.js" in html and "<svg" in html
    detail = Client().get(f"/c/{federation.slug}/congress/{congress.pk}/").content.decode()
    assert "Speakers list" in detail and "Shared oven" in detail
    api = Client().get(f"/api/congresses/{congress.pk}").json()
    assert api["state"] == "in_session" and api["chair"] == first.username and api["tally"]["ballots"] == 1
