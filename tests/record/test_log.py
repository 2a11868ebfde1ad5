"""The record as a transparency log: every chain is a Merkle tree whose checkpoints the server signs; leaves,
proofs and checkpoints are public, so anyone checks them with the server's key alone."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from councils.decisions.services import add_comment
from councils.record import log, note, tree
from councils.record.models import RecordEntry, TreeNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_council(clock, make_council, members_of, make_proposal):
    council = make_council(members=3)
    proposal = make_proposal(council)
    for i, member in enumerate(members_of(council)):
        add_comment(member, proposal, f"comment {i}")
    return council


def get(path, **params):
    response = Client().get(path, params)
    assert response.status_code == 200, response.content
    return response


def test_every_entry_is_a_leaf_and_the_signed_root_is_the_root_of_the_leaves(busy_council):
    chain = busy_council.record_chain
    entries = RecordEntry.objects.filter(chain=chain).count()
    key = note.VerifierKey.parse(get("/api/server/key").json()["vkey"])
    listed = {c["name"]: c for c in get("/api/record/").json()["chains"]}
    assert listed[chain]["size"] == entries
    signed = get(f"/api/record/{chain}/checkpoint").content.decode()
    checkpoint = note.open_checkpoint(signed, key).checkpoint
    assert checkpoint.origin == f"{log.server_name()}/{chain}" and checkpoint.size == entries
    leaves = [base64.b64decode(b) for b in get(f"/api/record/{chain}/leaves", start=0, end=entries).json()["leaves"]]
    assert tree.root_of_leaf_hashes(tree.leaf_hashes(leaves)) == checkpoint.root_hash
    # about two stored nodes per leaf, never more
    assert TreeNode.objects.filter(chain=chain).count() < 2 * entries


def test_inclusion_and_consistency_proofs_verify_against_signed_checkpoints(busy_council, make_proposal, members_of):
    chain = busy_council.record_chain
    key = note.VerifierKey.parse(log.server_vkey())
    first = note.open_checkpoint(get(f"/api/record/{chain}/checkpoint").content.decode(), key).checkpoint
    make_proposal(busy_council, title="Another motion")
    second = note.open_checkpoint(get(f"/api/record/{chain}/checkpoint").content.decode(), key).checkpoint
    assert second.size > first.size
    proof = [base64.b64decode(h) for h in get(f"/api/record/{chain}/proof/consistency", first=first.size,
                                               second=second.size).json()["hashes"]]
    tree.verify_consistency(first.size, second.size, proof, first.root_hash, second.root_hash)
    leaf = base64.b64decode(get(f"/api/record/{chain}/leaves", start=2, end=3).json()["leaves"][0])
    proof = [base64.b64decode(h) for h in get(f"/api/record/{chain}/proof/inclusion", index=2,
                                               size=second.size).json()["hashes"]]
    tree.verify_inclusion(tree.leaf_hash(leaf), 2, second.size, proof, second.root_hash)


def test_a_witness_cosignature_is_kept_and_shown_on_the_checkpoint(busy_council):
    chain = busy_council.record_chain
    signed = get(f"/api/record/{chain}/checkpoint").content.decode()
    witness = note.SignerKey.generate("witness.example", alg=note.ALG_COSIGNATURE_V1)
    text = note.parse_note(signed).text
    cosigned = note.add_signatures(signed, [note.cosign(text, witness, 1_900_000_000)])
    answer = Client().post(f"/api/record/{chain}/cosignatures", {"note": cosigned, "vkey": str(witness.verifier())},
                           content_type="application/json")
    assert answer.status_code == 201, answer.content
    shown = get(f"/api/record/{chain}/checkpoint").content.decode()
    opened = note.open_checkpoint(shown, note.VerifierKey.parse(log.server_vkey()), [witness.verifier()])
    assert [k.name for k, _ in opened.cosignatures] == ["witness.example"]


def test_a_cosignature_of_a_checkpoint_the_server_never_signed_is_refused(busy_council):
    chain = busy_council.record_chain
    forged = note.Checkpoint(origin=log.origin(chain), size=1, root_hash=b"\x01" * 32)
    signed = note.sign_checkpoint(forged, log.server_signer())  # even with the server's own key
    witness = note.SignerKey.generate("witness.example", alg=note.ALG_COSIGNATURE_V1)
    cosigned = note.add_signatures(signed, [note.cosign(forged.text(), witness, 1_900_000_000)])
    answer = Client().post(f"/api/record/{chain}/cosignatures", {"note": cosigned, "vkey": str(witness.verifier())},
                           content_type="application/json")
    assert answer.status_code == 422 and "never signed" in answer.json()["detail"]


@pytest.mark.parametrize("path, params", [
    ("leaves", {"start": 5, "end": 2}),
    ("proof/inclusion", {"index": 10_000, "size": 3}),
    ("proof/consistency", {"first": 4, "second": 2}),
])
def test_bad_ranges_get_a_clear_4xx(busy_council, path, params):
    answer = Client().get(f"/api/record/{busy_council.record_chain}/{path}", params)
    assert answer.status_code == 422 and answer.json()["detail"]


def test_an_unknown_chain_is_a_404():
    assert Client().get("/api/record/council/999999/checkpoint").status_code == 404


def test_a_leaf_is_the_entrys_canonical_json_whatever_it_holds(clock, make_council):
    """Leaves are assembled from stored strings for speed: they must be byte for byte the canonical JSON."""
    from django.db import transaction

    from councils import clock as app_clock
    from councils.record.chain import canonical_json
    from councils.record.services import append

    council = make_council(members=1)
    odd = {"text": "naïve “quotes” \\\\ \\n \\u2028 😀", "n": 10**30, "f": 1e-7, "nested": [{"b": None, "a": True}]}
    with transaction.atomic():
        append(council, kind="test.odd", subject="test:1", state=odd, at=app_clock.now(), actor="ünïcode")
    for row in RecordEntry.objects.filter(chain=council.record_chain):
        assert log.leaf_bytes(row) == canonical_json(row.as_entry().to_dict())
