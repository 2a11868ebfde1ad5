"""The examples in docs/record.md are what the code produces (docs are promises)."""

import base64
import hashlib
from pathlib import Path

from councils.record import note, statement, tree

DOC = (Path(__file__).parents[2] / "docs" / "record.md").read_text()


def indented(text: str) -> str:
    return "".join("    " + line + "\n" if line else "\n" for line in text.rstrip("\n").split("\n"))


def test_tree_example():
    t = tree.MemoryTree()
    for i in range(5):
        t.append(f'{{"seq":{i}}}'.encode())
    assert tree.leaf_hash(b'{"seq":0}').hex() in DOC
    assert t.root().hex() in DOC
    assert "reads nodes (0, 3), (1, 0), (0, 4)" in DOC and tree.inclusion_proof_keys(2, 5) == [(0, 3), (1, 0), (0, 4)]
    assert indented("\n".join(p.hex() for p in t.inclusion_proof(2, 5))) in DOC


def test_checkpoint_and_cosignature_example():
    t = tree.MemoryTree()
    for i in range(5):
        t.append(f'{{"seq":{i}}}'.encode())
    server = note.SignerKey("councils.example.org", note.ALG_ED25519, hashlib.sha256(b"example server key").digest())
    witness = note.SignerKey("witness.example.net", note.ALG_COSIGNATURE_V1, hashlib.sha256(b"example witness key").digest())
    assert str(server.verifier()) in DOC and str(witness.verifier()) in DOC
    cp = note.Checkpoint("councils.example.org/council-river-valley", 5, t.root())
    signed = note.add_signatures(note.sign_checkpoint(cp, server), [note.cosign(cp.text(), witness, 1900000000)])
    assert indented(signed) in DOC
    assert indented(note.cosigned_message(cp.text(), 1900000000).decode()) in DOC
    assert base64.b64encode(t.root()).decode() in DOC


def test_statement_examples():
    seed = hashlib.sha256(b"example member key").digest()
    pub = statement.public_key_of(seed)
    assert statement.encode_public_key(pub) in DOC and statement.key_id(pub) in DOC
    common = dict(council="river-valley", object="proposal:12", at="2030-05-01T12:00:00.000000Z", key=statement.key_id(pub))
    signed = statement.sign_statement(statement.Statement(act="ballot.cast", content={"ranking": ["b", "a"]}, **common), seed)
    assert indented(signed.statement.decode()) in DOC
    assert statement.encode_signature(signed.signature) in DOC
    hashed = statement.Statement(act="ballot.participate", content_sha256=statement.content_sha256({"receipt": "3f2a"}), **common)
    assert indented(hashed.canonical().decode()) in DOC
