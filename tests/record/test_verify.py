"""`councils verify` finds any edit made in the database behind the application's back."""

from datetime import timedelta

import pytest
from django.db import connection

from councils.cli import main
from councils.decisions.models import Ballot, Decision
from councils.decisions.services import cast_ballot, get_decision
from councils.record.models import RecordEntry
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def decided(clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    proposal = make_proposal(council)
    clock.advance(hours=1)
    for member in members_of(council):
        cast_ballot(member, proposal, "yes")
    clock.advance(hours=2)
    get_decision(proposal)
    return council, proposal


def raw_sql(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def run_verify(capsys):
    code = main(["verify"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_untouched_records_verify(decided, capsys):
    code, output = run_verify(capsys)
    assert code == 0 and output.startswith("OK")


def test_raw_update_to_a_ballot_fails_verification(decided, capsys):
    ballot = Ballot.objects.first()
    raw_sql(f"UPDATE {Ballot._meta.db_table} SET choice = %s WHERE id = %s", ["no", ballot.pk])
    code, output = run_verify(capsys)
    assert code == 1
    assert f"ballot:{ballot.pk}" in output and "First bad entry" in output


def test_raw_update_to_a_decision_fails_verification(decided, capsys):
    decision = Decision.objects.get()
    raw_sql(f"UPDATE {Decision._meta.db_table} SET outcome = %s, yes = 0 WHERE id = %s", ["rejected", decision.pk])
    code, output = run_verify(capsys)
    assert code == 1 and f"decision:{decision.pk}" in output


def test_deleting_a_ballot_fails_verification(decided, capsys):
    ballot = Ballot.objects.first()
    raw_sql(f"DELETE FROM {Ballot._meta.db_table} WHERE id = %s", [ballot.pk])
    code, output = run_verify(capsys)
    assert code == 1 and "missing" in output


def test_editing_a_record_entry_names_the_first_bad_entry(decided, capsys):
    council, _ = decided
    entry = RecordEntry.objects.filter(chain=council.record_chain).order_by("seq")[3]
    raw_sql(f"UPDATE {RecordEntry._meta.db_table} SET actor = %s WHERE id = %s", ["mallory", entry.pk])
    code, output = run_verify(capsys)
    assert code == 1
    assert f"council/{council.pk} entry #{entry.seq}" in output.split("First bad entry:")[1].splitlines()[0]


def test_inserting_a_ballot_without_the_application_fails_verification(decided, make_user, clock):
    council, proposal = decided
    intruder = make_user()
    Ballot.objects.create(proposal=proposal, voter=intruder, choice="no", cast_at=clock.now(), changed_at=clock.now())
    report = verify_all()
    assert not report.ok and "no record entry" in str(report.problems[0])


def test_the_record_pages_own_check_finds_a_ballot_edited_behind_the_applications_back(decided, client):
    council, proposal = decided
    assert "chain intact" in client.get(f"/c/{council.slug}/record/?verify=1").content.decode()
    ballot = Ballot.objects.first()
    raw_sql(f"UPDATE {Ballot._meta.db_table} SET choice = %s WHERE id = %s", ["no", ballot.pk])
    page = client.get(f"/c/{council.slug}/record/?verify=1").content.decode()
    assert "chain intact" not in page and f"ballot:{ballot.pk}" in page
    answer = client.get(f"/api/councils/{council.slug}/record/verify").json()
    assert answer["ok"] is False and any(f"ballot:{ballot.pk}" in p for p in answer["problems"])


def test_the_record_pages_own_check_finds_a_charter_edited_behind_the_applications_back(decided, client):
    council, _ = decided
    raw_sql("UPDATE assemblies_charter SET quorum = %s WHERE council_id = %s", ["0.01", council.pk])
    answer = client.get(f"/api/councils/{council.slug}/record/verify").json()
    assert answer["ok"] is False and any(f"charter:{council.pk}" in p for p in answer["problems"])
