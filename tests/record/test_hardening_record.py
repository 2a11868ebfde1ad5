"""Issue 13, items 1 and 7: the verifier neither cries wolf after ordinary acts nor misses edits of what pages show."""

import json
from datetime import timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, strategies as st

from councils.accounts.services import create_token
from councils.assemblies.models import Council
from councils.decisions.models import Decision, Proposal
from councils.decisions.services import add_comment, cast_ballot, create_proposal, get_decision, reschedule
from councils.record.models import Chain, RecordEntry
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db(transaction=False)

ZONES = ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham", "Pacific/Kiritimati",
         "America/Adak", "Australia/Eucla"]


def raw_sql(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def problems():
    return [str(p) for p in verify_all().problems]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=st.sampled_from(ZONES), offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
       hours=st.integers(min_value=49, max_value=24 * 30))
def test_acts_with_any_offset_and_time_zone_verify(clock, make_council, zone, offset_minutes, hours):
    council = make_council(members=2)
    author = council.memberships.first().member
    offset = dt_timezone(timedelta(minutes=offset_minutes))
    with timezone.override(ZoneInfo(zone)):
        now = clock.now()
        deliberation_ends = (now + timedelta(hours=hours, microseconds=offset_minutes)).astimezone(offset)
        proposal = create_proposal(author, council, title="Offsets", deliberation_ends=deliberation_ends,
                                   voting_ends=(deliberation_ends + timedelta(days=2)).astimezone(ZoneInfo(zone)))
        add_comment(author, proposal, "fine")
        reschedule(author, proposal, deliberation_ends=deliberation_ends + timedelta(hours=1),
                   voting_ends=(deliberation_ends + timedelta(days=3)).astimezone(offset))
    assert problems() == []


def test_proposal_made_through_the_api_with_an_offset_verifies(clock, make_council):
    council = make_council(members=2)
    author = council.memberships.first().member
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(author, 'tests')[1]}")
    ends = (clock.now() + timedelta(days=3)).astimezone(dt_timezone(timedelta(hours=1)))
    response = client.post(f"/api/councils/{council.slug}/proposals", content_type="application/json", data=json.dumps(
        {"title": "With an offset", "deliberation_ends": ends.isoformat()}))
    assert response.status_code == 201, response.content
    assert problems() == []


@pytest.fixture
def decided(clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    proposal = make_proposal(council)
    clock.set(proposal.deliberation_ends)
    for member in members_of(council):
        cast_ballot(member, proposal, "yes")
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    get_decision(proposal)
    assert problems() == []
    return council, proposal


def test_editing_the_published_tally_is_found(decided):
    decision = Decision.objects.get()
    tally = decision.tally
    tally["yes"] = 0
    raw_sql(f"UPDATE {Decision._meta.db_table} SET tally_json = %s WHERE id = %s", [json.dumps(tally), decision.pk])
    assert any(f"decision:{decision.pk}" in p for p in problems())


def test_editing_a_proposals_creation_time_is_found(decided):
    _, proposal = decided
    raw_sql(f"UPDATE {Proposal._meta.db_table} SET created_at = %s WHERE id = %s",
            [proposal.created_at - timedelta(days=9), proposal.pk])
    assert any(f"proposal:{proposal.pk}" in p for p in problems())


def test_deleting_a_whole_council_with_its_chain_is_found(decided, make_council):
    make_council(members=1)  # another council, untouched
    victim = make_council(members=1)
    name = victim.record_chain
    assert problems() == []
    raw_sql(f"DELETE FROM {RecordEntry._meta.db_table} WHERE chain = %s", [name])
    raw_sql(f"DELETE FROM {Chain._meta.db_table} WHERE name = %s", [name])
    with connection.cursor() as cursor:  # the council and everything of it, as a careful intruder would
        for table, column in (("assemblies_membership", "council_id"), ("assemblies_charter", "council_id")):
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [victim.pk])
        cursor.execute(f"DELETE FROM {Council._meta.db_table} WHERE id = %s", [victim.pk])
    found = problems()
    assert any(name in p and "gone" in p for p in found), found


def test_a_chain_made_behind_the_applications_back_is_found(decided):
    council, _ = decided
    for row in RecordEntry.objects.filter(chain=council.record_chain).order_by("seq")[:1]:
        raw_sql(f"UPDATE {RecordEntry._meta.db_table} SET chain = %s WHERE id = %s", ["council/999", row.pk])
    assert any("council/999" in p and "not registered" in p for p in problems())


def test_editing_shown_times_of_other_rows_is_found(decided):
    council, _ = decided
    raw_sql(f"UPDATE {Council._meta.db_table} SET created_at = %s WHERE id = %s",
            [council.created_at - timedelta(days=400), council.pk])
    assert any(f"council:{council.pk}" in p for p in problems())
