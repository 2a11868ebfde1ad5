"""`councils verify --remote` and `councils witness` against a served record: what passes, and each way a server
that rewrites its history is caught by anyone who saw it before."""

from __future__ import annotations

import pytest
from django.db import transaction

from councils.cli import main
from councils.decisions.services import add_comment
from councils.record.models import Checkpoint, RecordEntry
from councils.record.services import append

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(live_server, clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    proposal = make_proposal(council)
    for member in members_of(council):
        add_comment(member, proposal, "agreed")
    return live_server.url, council, proposal


def verify(url, state, capsys, *extra):
    status = main(["verify", "--remote", url, "--state", str(state), "--quiet", *extra])
    out = capsys.readouterr()
    return status, out.out + out.err


def test_the_record_verifies_remotely_and_again_after_more_acts(served, tmp_path, capsys):
    url, council, proposal = served
    status, said = verify(url, tmp_path, capsys)
    assert status == 0, said
    assert "OK:" in said
    add_comment(proposal.author, proposal, "one more")
    status, said = verify(url, tmp_path, capsys, "--chain", council.record_chain)
    assert status == 0, said


def test_a_deleted_last_entry_is_caught(served, tmp_path, capsys, drop_last_entry):
    url, council, _ = served
    assert verify(url, tmp_path, capsys)[0] == 0
    drop_last_entry(council)
    status, said = verify(url, tmp_path, capsys)
    assert status == 1 and "shrank" in said


def test_a_rewritten_last_entry_is_a_fork_caught_by_who_saw_the_first(served, tmp_path, capsys, drop_last_entry):
    url, council, _ = served
    assert verify(url, tmp_path, capsys)[0] == 0
    drop_last_entry(council)
    from councils import clock

    with transaction.atomic():
        append(council, kind="comment.added", subject="comment:forged", state={"body": "not what was said"},
               at=clock.now())
    status, said = verify(url, tmp_path, capsys)
    assert status == 1 and "fork" in said


def test_a_history_rewritten_and_extended_is_caught_by_the_consistency_proof(served, tmp_path, capsys, drop_last_entry):
    url, council, _ = served
    assert verify(url, tmp_path, capsys)[0] == 0
    drop_last_entry(council)
    from councils import clock

    with transaction.atomic():
        for n in range(3):
            append(council, kind="comment.added", subject=f"comment:forged{n}", state={"body": "rewritten"},
                   at=clock.now())
    status, said = verify(url, tmp_path, capsys)
    assert status == 1 and "rewritten" in said


def test_an_entry_edited_in_the_database_is_caught_by_a_new_verifier(served, tmp_path, capsys):
    url, council, _ = served
    RecordEntry.objects.filter(chain=council.record_chain, seq=1).update(actor="someone-else")
    status, said = verify(url, tmp_path, capsys)
    assert status == 1 and "entry #1" in said


def test_a_changed_server_key_is_reported(served, tmp_path, capsys):
    url, _, _ = served
    assert verify(url, tmp_path, capsys)[0] == 0
    (next((tmp_path / "servers").iterdir()) / "vkey").write_text("other+01020304+AQ" + "A" * 42 + "=\n")
    status, said = verify(url, tmp_path, capsys)
    assert status == 1 and "key changed" in said


def test_a_witness_cosigns_and_refuses_a_fork(served, tmp_path, capsys, drop_last_entry):
    url, council, _ = served
    state = tmp_path / "witness"
    assert main(["witness", url, "--state", str(state), "--once", "--name", "test-witness"]) == 0
    assert Checkpoint.objects.filter(chain=council.record_chain, cosignatures__witness="test-witness").exists()
    from django.test import Client

    assert "test-witness" in Client().get(f"/c/{council.slug}/record/").content.decode()
    drop_last_entry(council)
    from councils import clock

    with transaction.atomic():
        append(council, kind="comment.added", subject="comment:forged", state={"body": "forged"}, at=clock.now())
    capsys.readouterr()
    assert main(["witness", url, "--state", str(state), "--once"]) == 1
    assert "fork" in capsys.readouterr().err


def test_an_unreachable_server_is_a_clear_failure(tmp_path, capsys):
    status = main(["verify", "--remote", "http://127.0.0.1:9", "--state", str(tmp_path), "--quiet"])
    assert status == 1 and "BROKEN" in capsys.readouterr().err


def test_a_ballot_written_without_the_members_key_is_caught_remotely(served, tmp_path, capsys):
    """The operator writes a ballot row and a perfectly linked entry, and signs the checkpoint: the member's
    signature is what is missing."""
    from councils import clock
    from councils.decisions.models import Ballot

    url, council, proposal = served
    assert verify(url, tmp_path, capsys)[0] == 0
    clock_now = clock.now()
    voter = proposal.author
    with transaction.atomic():
        ballot = Ballot.objects.create(proposal=proposal, voter=voter, choice="yes", content_json="", reason="",
                                       cast_at=clock_now, changed_at=clock_now)
        append(council, kind="ballot.cast", subject=ballot.subject, state=ballot.record_state(), at=clock_now, actor=voter)
    status, said = verify(url, tmp_path, capsys)
    assert status == 1 and "carries no signature" in said, said


def test_member_signatures_are_counted_in_the_remote_check(served, tmp_path, capsys):
    url, council, _ = served
    status, said = verify(url, tmp_path, capsys)
    assert status == 0 and "members' signatures" in said and " 0 members' signatures" not in said, said
