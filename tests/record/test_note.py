"""Signed notes, checkpoints and cosignatures against the C2SP specifications and Go's vectors."""

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from councils.record.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    EM_DASH,
    BadSignature,
    Checkpoint,
    NoteError,
    NoteSignature,
    SignerKey,
    UnverifiedNote,
    VerifierKey,
    add_signatures,
    cosign,
    cosigned_message,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
)

# c2sp.org/signed-note, "Example"
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# golang.org/x/mod/sumdb/note package documentation
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
# c2sp.org/tlog-cosignature, the example checkpoint with a cosignature (its time is 1679315147)
SPEC_COSIGNED = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

LOG = SignerKey(name="councils.example/council-1", alg=ALG_ED25519, seed=bytes(range(32)))
WITNESS = SignerKey(name="witness.example/w1", alg=ALG_COSIGNATURE_V1, seed=bytes(range(1, 33)))
OTHER = SignerKey(name="councils.example/council-1", alg=ALG_ED25519, seed=bytes(range(2, 34)))
ROOT = bytes(range(32))


def test_spec_example_note_verifies_with_spec_vkey():
    opened = open_note(SPEC_NOTE.encode(), [VerifierKey.parse(SPEC_VKEY)])
    assert opened.text == "This is an example message.\n"
    assert [s.name for s in opened.verified] == ["example.com/foo"]


def test_go_signer_key_reproduces_go_signed_note_byte_for_byte():
    signer = SignerKey.parse(GO_SKEY)
    assert signer.encode() == GO_SKEY
    assert str(signer.verifier()) == GO_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_TEXT + "\n" + GO_SIG


def test_go_doubly_signed_note_verifies_each_key_and_ignores_unknown_ones():
    both = GO_TEXT + "\n" + GO_SIG + ENOCH_SIG
    peter, enoch = VerifierKey.parse(GO_VKEY), VerifierKey.parse(ENOCH_VKEY)
    opened = open_note(both, [peter, enoch])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
    only_peter = open_note(both, [peter])
    assert [s.name for s in only_peter.verified] == ["PeterNeumann"]
    assert [s.name for s in only_peter.unknown] == ["EnochRoot"]
    with pytest.raises(UnverifiedNote):
        open_note(both, [LOG.verifier()])


def test_go_bad_keys_are_refused():
    with pytest.raises(NoteError):
        VerifierKey.parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(NoteError, match="32 bytes"):
        VerifierKey.parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEA==")
    with pytest.raises(NoteError, match="unknown signature type"):
        VerifierKey.parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


@pytest.mark.parametrize("key, parse", [(GO_VKEY, VerifierKey.parse), (GO_SKEY, SignerKey.parse)])
def test_every_mangled_key_string_is_refused(key, parse):
    for i in range(len(key) + 1):
        for j in range(i + 1, len(key) + 1):
            if (i, j) != (0, len(key)):
                with pytest.raises(NoteError):
                    parse(key[i:j])
    for i in range(len(key)):
        with pytest.raises(NoteError):
            parse(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])


def test_signer_key_repr_and_errors_do_not_show_the_seed():
    assert "AYEK" not in repr(SignerKey.parse(GO_SKEY))
    with pytest.raises(NoteError) as err:
        SignerKey.parse(GO_SKEY[:-3] + "!!!")
    assert "AYEK" not in str(err.value)


def test_generated_keys_round_trip():
    signer = SignerKey.generate("a.example/x")
    assert SignerKey.parse(signer.encode()) == signer
    assert VerifierKey.parse(str(signer.verifier())) == signer.verifier()


def test_tampered_note_is_refused():
    note = sign_note(GO_TEXT, [SignerKey.parse(GO_SKEY)])
    peter = VerifierKey.parse(GO_VKEY)
    with pytest.raises(BadSignature, match="PeterNeumann"):
        open_note(note.replace("problem is", "problem was"), [peter])
    # a signature by a known key that fails rejects the note even when another verifies
    forged = note + f"{EM_DASH} EnochRoot " + base64.b64encode(bytes.fromhex("af0cfe78") + bytes(64)).decode() + "\n"
    with pytest.raises(BadSignature, match="EnochRoot"):
        open_note(forged, [peter, VerifierKey.parse(ENOCH_VKEY)])


def test_wrong_key_with_same_name_is_ignored_not_trusted():
    note = sign_note("hello\n", [LOG])
    with pytest.raises(UnverifiedNote):
        open_note(note, [OTHER.verifier()])


@pytest.mark.parametrize(
    "note, message",
    [
        (GO_TEXT + GO_SIG, "no blank line"),
        (GO_TEXT + "\n", "no signature lines"),
        (GO_TEXT + "\n" + GO_SIG[:-1], "does not end with a newline"),
        (GO_TEXT + "\n" + GO_SIG.replace("—", "-"), "line 4 is not a signature line"),
        (GO_TEXT + "\n" + GO_SIG.replace(" x08", "  x08"), "line 4"),
        (GO_TEXT + "\n" + GO_SIG.replace("x08go", "x08g!"), "not valid base64"),
        (GO_TEXT + "\n" + f"{EM_DASH} PeterNeumann AAAA\n", "too short"),
        (GO_TEXT + "\n" + GO_SIG.replace("PeterNeumann", "Peter+Neumann"), "key name"),
        ("tab\there\n\n" + GO_SIG, "control character"),
        (b"\xff\n\n" + GO_SIG.encode(), "UTF-8"),
        (GO_TEXT + "\n" + GO_SIG * 101, "more than 100"),
    ],
)
def test_malformed_notes_are_refused(note, message):
    with pytest.raises(NoteError, match=message):
        parse_note(note)


def test_note_text_may_hold_blank_lines_the_last_one_separates():
    text = "a\n\nb\n"
    note = sign_note(text, [LOG])
    assert open_note(note, [LOG.verifier()]).text == text


def test_sign_refuses_text_without_final_newline_and_cosigner_keys():
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("no newline", [LOG])
    with pytest.raises(NoteError, match="cosign"):
        sign_note("x\n", [WITNESS])


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\t\x0b\x0c"), max_size=60))
@settings(max_examples=50, deadline=None)
def test_any_valid_text_round_trips(body):
    text = "".join(ch for ch in body if ord(ch) >= 0x20 or ch == "\n") + "\n"
    note = sign_note(text, [LOG])
    assert open_note(note.encode(), [LOG.verifier()]).text == text


# --- checkpoints ---------------------------------------------------------------------------------


def test_checkpoint_text_is_origin_size_root():
    cp = Checkpoint("councils.example/council-1", 20852163, ROOT)
    assert cp.text() == "councils.example/council-1\n20852163\n" + base64.b64encode(ROOT).decode() + "\n"
    assert parse_checkpoint(cp.text()) == cp
    with_ext = Checkpoint("o", 0, ROOT, ("ext one", "ext two"))
    assert parse_checkpoint(with_ext.text()) == with_ext


def test_spec_checkpoint_parses_and_its_cosignature_carries_the_spec_time():
    note = parse_note(SPEC_COSIGNED)
    cp = parse_checkpoint(note.text)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert note.signatures[1].timestamp == 1679315147
    assert cosigned_message(note.text, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("o\n1\n", "needs origin, tree size and root hash"),
        ("\n1\n" + base64.b64encode(ROOT).decode() + "\n", "line 1"),
        ("o\n01\n" + base64.b64encode(ROOT).decode() + "\n", "line 2"),
        ("o\n-1\n" + base64.b64encode(ROOT).decode() + "\n", "line 2"),
        ("o\n1 \n" + base64.b64encode(ROOT).decode() + "\n", "line 2"),
        ("o\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "line 3"),
        ("o\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n", "line 3"),
        ("o\n1\n" + base64.b64encode(ROOT).decode() + "\n\next\n", "line 4"),
        ("o\n1\n" + base64.b64encode(ROOT).decode(), "newline"),
        ("o\n9223372036854775808\n" + base64.b64encode(ROOT).decode() + "\n", "2\\*\\*63"),
    ],
)
def test_malformed_checkpoints_are_refused(text, message):
    with pytest.raises(NoteError, match=message):
        parse_checkpoint(text)


def test_signed_checkpoint_and_cosignatures_verify():
    cp = Checkpoint(LOG.name, 5, ROOT)
    note = sign_checkpoint(cp, LOG)
    cosig = cosign(cp.text(), WITNESS, 1_900_000_000)
    assert cosig.timestamp == 1_900_000_000
    cosigned = add_signatures(note, [cosig])
    opened = open_checkpoint(cosigned, LOG.verifier(), [WITNESS.verifier()])
    assert opened.checkpoint == cp
    assert opened.cosignatures == ((WITNESS.verifier(), 1_900_000_000),)
    # a client that does not know the witness still reads the log's checkpoint
    assert open_checkpoint(cosigned, LOG.verifier()).cosignatures == ()


def test_cosignature_for_one_checkpoint_does_not_verify_on_another():
    cp = Checkpoint(LOG.name, 5, ROOT)
    fork = Checkpoint(LOG.name, 5, bytes(32))
    cosig = cosign(cp.text(), WITNESS, 1_900_000_000)
    with pytest.raises(BadSignature, match="witness.example/w1"):
        open_checkpoint(add_signatures(sign_checkpoint(fork, LOG), [cosig]), LOG.verifier(), [WITNESS.verifier()])
    # nor with another time
    moved = NoteSignature(cosig.name, cosig.key_id, (1_900_000_001).to_bytes(8, "big") + cosig.signature[8:])
    with pytest.raises(BadSignature):
        open_checkpoint(add_signatures(sign_checkpoint(cp, LOG), [moved]), LOG.verifier(), [WITNESS.verifier()])


def test_checkpoint_needs_the_log_signature_not_only_a_witness():
    cp = Checkpoint(LOG.name, 5, ROOT)
    only_witness = cp.text() + "\n" + cosign(cp.text(), WITNESS, 1).line()
    with pytest.raises(UnverifiedNote, match="not signed by the log key"):
        open_checkpoint(only_witness, LOG.verifier(), [WITNESS.verifier()])


def test_cosign_refuses_note_keys_bad_times_and_non_checkpoints():
    cp = Checkpoint(LOG.name, 5, ROOT)
    with pytest.raises(NoteError, match="not a cosignature"):
        cosign(cp.text(), LOG, 1)
    with pytest.raises(NoteError, match="POSIX time"):
        cosign(cp.text(), WITNESS, -1)
    with pytest.raises(NoteError, match="tree size"):
        cosign("o\nx\ny\n", WITNESS, 1)


def test_cosigner_key_id_uses_type_0x04():
    vkey = str(WITNESS.verifier())
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    same_seed_note_key = SignerKey(WITNESS.name, ALG_ED25519, WITNESS.seed)
    assert same_seed_note_key.key_id != WITNESS.key_id
