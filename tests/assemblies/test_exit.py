"""Free exit: a council moves to another server by its own vote, with its whole record (docs/free-exit.md)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from councils.assemblies.exit import export_council
from councils.decisions.services import (
    add_comment,
    add_minority_report,
    cast_ballot,
    create_proposal,
    get_decision,
    move_amendment,
)
from councils.errors import Gone
from councils.record import bundle
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db

DESTINATION = "http://127.0.0.1:8001"
SRC = str(Path(__file__).resolve().parents[2] / "src")


# ----- the moving council --------------------------------------------------------------------------------------------


@pytest.fixture
def moved_council(clock, make_council, members_of, federation_of):
    """A council with votes of several kinds (open, secret, approval, ranked), an amendment, comments, a minority
    report, officers and a delegation, that decides to move to DESTINATION."""
    _federation, (council,) = federation_of([4])
    members = members_of(council)
    now = clock.now()
    main = create_proposal(members[0], council, title="Buy a van", body="It costs 5000. Delivery in May.",
                           deliberation_ends=now + timedelta(hours=1), voting_ends=now + timedelta(hours=2))
    amendment = move_amendment(members[1], main, passage="It costs 5000.", replacement="It costs 4000.", reason="Cheaper")
    add_comment(members[2], main, "I agree, with the amendment.")
    for member in members:
        cast_ballot(member, amendment, "yes")
    secret = create_proposal(members[0], council, title="Secret matter", secret=True, deliberation_ends=now,
                             voting_ends=now + timedelta(hours=2))
    approval = create_proposal(members[1], council, title="Colours", decision_method="approval",
                               options=["red", "green", "blue"], deliberation_ends=now, voting_ends=now + timedelta(hours=2))
    ids = list(approval.options.values_list("pk", flat=True))
    election = create_proposal(members[0], council, kind="election", office="facilitator", title="Facilitator",
                               options=[{"member": members[2].username}, {"member": members[3].username}],
                               deliberation_ends=now, voting_ends=now + timedelta(hours=2))
    candidates = list(election.options.values_list("pk", flat=True))
    clock.advance(hours=1, seconds=1)
    for n, member in enumerate(members):
        cast_ballot(member, main, "yes" if n else "no")
        cast_ballot(member, secret, "no" if n == 2 else "yes")
        cast_ballot(member, approval, {"approvals": ids[: 1 + n % 3]})
        cast_ballot(member, election, {"ranking": [candidates[n % 2]]})
    clock.advance(hours=1, seconds=1)
    decision = get_decision(main)
    assert decision.outcome == "adopted"
    add_minority_report(members[0], decision, "Vans pollute.")
    assert get_decision(election).outcome == "decided"
    move = create_proposal(members[0], council, kind="move", title="Move to the co-operative's server",
                           payload={"destination": DESTINATION}, deliberation_ends=clock.now(),
                           voting_ends=clock.now() + timedelta(hours=1))
    for member in members:
        cast_ballot(member, move, "yes")
    clock.advance(hours=1, seconds=1)
    assert get_decision(move).outcome == "adopted"
    return council


def _installation(tmp_path, name: str) -> dict:
    """Environment of a second installation: its own data folder (database, keys) and its own address."""
    data = tmp_path / name
    data.mkdir()
    env = {**os.environ, "PYTHONPATH": SRC, "COUNCILS_DATA": str(data), "COUNCILS_SITE_URL": DESTINATION,
           "DJANGO_SETTINGS_MODULE": "councils.settings"}
    env.pop("DATABASE_URL", None)
    return env


def _councils(env, *args, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "councils.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"councils {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def _rewrite(data: bytes, change, *, fix_manifest: bool = True) -> bytes:
    """The file with ``change(files)`` applied to its files (dict name -> bytes), the manifest recomputed unless told."""
    manifest, files = bundle.read(data)
    change(files)
    if not fix_manifest:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(bundle.MANIFEST, bundle.dumps(manifest))
            for name, content in files.items():
                archive.writestr(name, content)
        return out.getvalue()
    header = {k: v for k, v in manifest.items() if k not in ("files", "format", "version")}
    return bundle.write(files, header)


# ----- the move --------------------------------------------------------------------------------------------------------


def test_an_adopted_move_ends_the_chain_and_refuses_every_later_act(clock, moved_council, members_of):
    from councils.record.models import RecordEntry

    last = RecordEntry.objects.filter(chain=moved_council.record_chain).order_by("-seq").first()
    assert last.kind == "council.moved" and last.data["destination"] == DESTINATION
    assert last.data["last_checkpoint"]["size"] == last.seq
    with pytest.raises(Gone) as refused:
        create_proposal(members_of(moved_council)[0], moved_council, title="Still here?",
                        deliberation_ends=clock.now(), voting_ends=clock.now() + timedelta(hours=1))
    assert DESTINATION in refused.value.message and refused.value.status == 410
    assert verify_all().ok


def test_the_federation_is_told_the_new_address(moved_council):
    from councils.federation.models import Affiliation
    from councils.record.models import RecordEntry

    affiliation = Affiliation.objects.get(council=moved_council)
    told = RecordEntry.objects.get(chain=affiliation.federation.record_chain, kind="affiliation.moved")
    assert told.data["destination"] == DESTINATION and told.subject == affiliation.subject


def test_a_move_names_an_http_address_other_than_this_server(clock, make_council, members_of):
    from councils.errors import Invalid

    council = make_council(members=2)
    for bad in ("", "ftp://x.org", "not a url", "http://127.0.0.1:8000"):
        with pytest.raises(Invalid):
            create_proposal(members_of(council)[0], council, kind="move", title="Move", payload={"destination": bad},
                            deliberation_ends=clock.now(), voting_ends=clock.now() + timedelta(hours=1))


def test_a_member_proposes_a_move_through_the_api_and_the_page(clock, client, make_council, members_of):
    council = make_council(members=2)
    member = members_of(council)[0]
    client.force_login(member)
    answer = client.post(f"/api/councils/{council.slug}/proposals", content_type="application/json",
                         data={"title": "Move", "kind": "move", "destination": DESTINATION + "/"})
    assert answer.status_code == 201 and answer.json()["destination"] == DESTINATION
    refused = client.post(f"/api/councils/{council.slug}/proposals", content_type="application/json",
                          data={"title": "Move", "kind": "move", "destination": "ftp://elsewhere"})
    assert refused.status_code == 422 and refused.json()["field"] == "destination"
    form = client.get(f"/c/{council.slug}/proposals/new/?kind=move")
    assert form.status_code == 200 and 'name="destination"' in form.content.decode()
    page = client.get(f"/c/{council.slug}/p/{answer.json()['id']}/")
    assert DESTINATION in page.content.decode()


def test_the_api_answers_410_with_the_new_address_after_the_move(client, moved_council, members_of):
    client.force_login(members_of(moved_council)[0])
    answer = client.post(f"/api/councils/{moved_council.slug}/proposals", data={"title": "Here?"},
                         content_type="application/json")
    assert answer.status_code == 410 and DESTINATION in answer.json()["detail"]
    page = client.get(f"/c/{moved_council.slug}/")
    assert page.status_code == 200 and DESTINATION in page.content.decode()


# ----- the file ----------------------------------------------------------------------------------------------------


def test_the_export_is_a_zip_of_json_with_a_manifest_and_no_secrets(moved_council):
    data = export_council(moved_council)
    manifest, files = bundle.read(data)
    assert manifest["format"] == "councils-exit" and manifest["version"] == 1
    assert manifest["moved_to"] == DESTINATION
    members = json.loads(files["members.json"])
    assert members and all(set(m) == {"id", "username", "name", "keys"} for m in members)
    text = b"".join(files.values()).decode()
    assert "md5$" not in text and "argon2" not in text and "@" not in json.dumps(members)
    secret_ballots = json.loads(files["data/decisions.SecretBallot.json"])
    assert secret_ballots and all("voter" not in json.dumps(b) for b in secret_ballots)
    checked = bundle.verify_log(bundle.read_leaves(files["record/leaves.jsonl"], "leaves"),
                                files["record/checkpoint"].decode(), files["record/vkey"].decode())
    assert checked.entries[-1].kind == "council.moved"


# ----- two installations -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_installation(tmp_path_factory):
    """A migrated, empty second installation, copied for each test that needs one."""
    base = tmp_path_factory.mktemp("fresh")
    env = _installation(base, "template")
    _councils(env, "manage", "migrate", "--verbosity", "0")
    return base / "template"


def _copy(fresh_installation, tmp_path, name="dest") -> dict:
    env = _installation(tmp_path, name)
    shutil.copytree(fresh_installation, env["COUNCILS_DATA"], dirs_exist_ok=True)
    for key in ("server_key", "secret_key"):
        (Path(env["COUNCILS_DATA"]) / key).unlink(missing_ok=True)
    return env


def test_round_trip_export_import_export_holds_the_same_council(moved_council, tmp_path, fresh_installation):
    first = tmp_path / "first.zip"
    first.write_bytes(export_council(moved_council))
    env = _copy(fresh_installation, tmp_path)
    done = _councils(env, "import", str(first))
    assert "Imported" in done.stdout
    assert "OK" in _councils(env, "verify").stdout
    second = tmp_path / "second.zip"
    _councils(env, "export", moved_council.slug, str(second))
    assert _council_of(first.read_bytes()) == _council_of(second.read_bytes())
    # The new chain names the origin's last checkpoint; the origin's record travels with the council.
    _, files = bundle.read(second.read_bytes())
    arrived = json.loads(files["record/leaves.jsonl"].split(b"\n")[0])
    assert arrived["kind"] == "council.arrived"
    _, origin_files = bundle.read(first.read_bytes())
    assert files["archives/0/leaves.jsonl"] == origin_files["record/leaves.jsonl"]
    assert arrived["data"]["origin"]["checkpoint"] == origin_files["record/checkpoint"].decode()


def _council_of(data: bytes) -> dict:
    """What a file says the council is, with every key replaced by the origin's subject or value: rows compared by
    content, whatever keys the server that wrote the file gave them."""
    _manifest, files = bundle.read(data)
    members = {m["id"]: m["username"].split("-")[0] for m in json.loads(files["members.json"])}
    out = {}
    for name, content in files.items():
        if not name.startswith("data/"):
            continue
        rows = []
        for row in json.loads(content):
            fields = {k: v for k, v in row["fields"].items() if k not in ("id",) and not k.endswith("_id")
                      and k not in ("slug", "content_json", "ballots_digest")}
            rows.append(json.dumps(fields, sort_keys=True))
        out[name] = sorted(rows)
    out["members"] = sorted(members.values())
    out["contents"] = sorted((c["text"], c["sha256"]) for c in json.loads(files["contents.json"]))
    return out


def _ballot_flipped(files):
    rows = json.loads(files["data/decisions.Ballot.json"])
    row = next(r for r in rows if r["fields"]["choice"] == "no")
    row["fields"]["choice"] = "yes"
    files["data/decisions.Ballot.json"] = bundle.dumps(rows)


def _byte_of_ballot(files):
    data = bytearray(files["data/decisions.Ballot.json"])
    at = data.index(b'"no"')
    data[at + 1:at + 3] = b"NO"
    files["data/decisions.Ballot.json"] = bytes(data)


def _entry_missing(files):
    lines = files["record/leaves.jsonl"].split(b"\n")
    del lines[5]
    files["record/leaves.jsonl"] = b"\n".join(lines)


def _signature_swapped(files):
    from councils.record import note

    text, _, signature = files["record/checkpoint"].decode().partition("\n\n")
    other = note.SignerKey.generate(signature.split(" ")[1])
    files["record/checkpoint"] = note.sign_note(text + "\n", [other]).encode()


def _extra_member(files):
    members = json.loads(files["members.json"])
    members.append({"id": 999999, "username": "intruder", "name": "", "keys": []})
    files["members.json"] = bundle.dumps(members)
    rows = json.loads(files["data/assemblies.Membership.json"])
    extra = json.loads(json.dumps(rows[0]))
    extra["id"] = 999999
    extra["fields"].update(id=999999, member_id=999999)
    rows.append(extra)
    files["data/assemblies.Membership.json"] = bundle.dumps(rows)


@pytest.mark.parametrize("tamper, fix_manifest, said", [
    (_byte_of_ballot, False, "data/decisions.Ballot.json: SHA-256 differs from the manifest"),
    (_ballot_flipped, True, "differs from what the record last wrote of it"),
    (_entry_missing, True, "the signed checkpoint covers"),
    (_signature_swapped, True, "signature does not verify"),
    (_extra_member, True, "membership:999999 has no entry in the record"),
])
def test_a_tampered_file_is_refused_whole_naming_what_failed(moved_council, tmp_path, fresh_installation, tamper,
                                                             fix_manifest, said):
    import sqlite3

    bad = tmp_path / "bad.zip"
    bad.write_bytes(_rewrite(export_council(moved_council), tamper, fix_manifest=fix_manifest))
    env = _copy(fresh_installation, tmp_path)
    done = _councils(env, "import", str(bad), check=False)
    assert done.returncode == 1 and "REFUSED, nothing written" in done.stderr and said in done.stderr, done.stderr
    database = sqlite3.connect(Path(env["COUNCILS_DATA"]) / "councils.sqlite3")
    for table in ("assemblies_council", "auth_user", "record_recordentry", "record_archive", "record_content"):
        assert database.execute(f"select count(*) from {table}").fetchone() == (0,), table


def test_an_unmoved_council_or_one_bound_elsewhere_is_refused(clock, make_council, tmp_path, fresh_installation):
    council = make_council(members=2)
    file = tmp_path / "unmoved.zip"
    file.write_bytes(export_council(council))
    env = _copy(fresh_installation, tmp_path)
    done = _councils(env, "import", str(file), check=False)
    assert done.returncode == 1 and "a council moves only by its own vote" in done.stderr


def test_an_import_that_fails_half_way_leaves_nothing_behind(moved_council, settings, monkeypatch):
    """The rows, users, texts, archive and chain are written in one transaction: a failure after the rows are in
    (here: when the arrival entries are written) undoes them all."""
    from django.contrib.auth import get_user_model

    from councils.assemblies import exit as exit_module
    from councils.assemblies.models import Council
    from councils.record.models import Archive, Content, RecordEntry, SubjectAlias

    data = export_council(moved_council)
    from councils.decisions.models import SecretBallot

    # This database plays the new server's: the texts and secret ballots (unique by hash and receipt) are not here yet.
    Content.objects.all().delete()
    SecretBallot.objects.all().delete()
    from councils.record import log

    settings.COUNCILS_SERVER_NAME = log.server_name()  # the same server key signs, under its own name
    settings.SITE_URL = DESTINATION
    written = {}

    def fail(owner, items, *, at):
        written["councils"] = Council.objects.count()
        raise RuntimeError("killed half-way")

    monkeypatch.setattr(exit_module, "append_many", fail)
    before = (Council.objects.count(), get_user_model().objects.count(), RecordEntry.objects.count(),
              Archive.objects.count(), SubjectAlias.objects.count(), Content.objects.count())
    with pytest.raises(RuntimeError):
        exit_module.import_council(data)
    assert written["councils"] == before[0] + 1  # the council was in, inside the transaction
    after = (Council.objects.count(), get_user_model().objects.count(), RecordEntry.objects.count(),
             Archive.objects.count(), SubjectAlias.objects.count(), Content.objects.count())
    assert after == before


def test_a_member_signature_swapped_by_the_origin_itself_is_refused(moved_council, tmp_path, fresh_installation):
    """Even the origin server, which can sign checkpoints, cannot hand over a ballot its member did not sign: two
    members' signed ballots swapped, the chain rehashed and the checkpoint signed again with the origin's key."""
    from datetime import datetime

    from councils.record import log, note, tree
    from councils.record.chain import GENESIS, Entry, canonical_json, next_entry
    from councils.record.services import rule_statement

    def swap(files):
        entries = [Entry(**json.loads(line)) for line in files["record/leaves.jsonl"].split(b"\n") if line]
        ballots = [i for i, e in enumerate(entries) if e.kind == "ballot.cast" and "signed" in e.data]
        first, second = ballots[:2]
        data = [dict(e.data) for e in entries]
        data[first]["signed"], data[second]["signed"] = entries[second].data["signed"], entries[first].data["signed"]
        rebuilt, head = [], None
        for e, d in zip(entries, data):
            if "server_signed" in d:  # the origin signs its rule acts again over the rehashed chain
                d["server_signed"] = rule_statement(e.chain, e.subject, e.kind, datetime.fromisoformat(e.at),
                                                    head.hash if head else GENESIS, d)
            head = next_entry(head, chain=e.chain, at=e.at, actor=e.actor, kind=e.kind, subject=e.subject, data=d)
            rebuilt.append(canonical_json(head.to_dict()))
        files["record/leaves.jsonl"] = bundle.leaves_file(rebuilt)
        origin = note.parse_checkpoint(note.parse_note(files["record/checkpoint"].decode()).text).origin
        body = note.Checkpoint(origin=origin, size=len(rebuilt), root_hash=tree.root_of_leaf_hashes(tree.leaf_hashes(rebuilt)))
        files["record/checkpoint"] = note.sign_checkpoint(body, log.server_signer()).encode()

    bad = tmp_path / "forged.zip"
    bad.write_bytes(_rewrite(export_council(moved_council), swap))
    env = _copy(fresh_installation, tmp_path)
    done = _councils(env, "import", str(bad), check=False)
    assert done.returncode == 1 and "REFUSED, nothing written" in done.stderr, done.stderr
    assert "not of the entry's actor" in done.stderr, done.stderr
