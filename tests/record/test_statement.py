"""Members' signed statements: canonical bytes, signatures, keys as browsers export them."""

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from councils.record.statement import (
    FORMAT,
    BadStatementSignature,
    SignedStatement,
    Statement,
    StatementError,
    canonical_json,
    content_sha256,
    decode_public_key,
    decode_signature,
    encode_public_key,
    encode_signature,
    format_time,
    key_id,
    parse_statement,
    parse_time,
    public_key_from_jwk,
    public_key_of,
    sign_statement,
    verify_many,
    verify_statements,
    verify_statement,
)

ANA = bytes(range(32))
BEA = bytes(range(1, 33))
ANA_PUB, BEA_PUB = public_key_of(ANA), public_key_of(BEA)
AT = "2030-05-01T12:00:00.000000Z"


def ballot(**changes) -> Statement:
    fields = dict(act="ballot.cast", council="river-valley", object="proposal:12", at=AT, key=key_id(ANA_PUB), content={"ranking": ["b", "a"]})
    fields.update(changes)
    return Statement(**fields)


# --- canonical JSON ------------------------------------------------------------------------------


def test_rfc8785_example_of_the_rfc_itself():
    # RFC 8785 section 3.2.2 / 3.2.3: sorted by UTF-16 code units, numbers as ECMAScript writes them
    value = json.loads(
        '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],'
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}'
    )
    assert canonical_json(value) == (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    keys = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\U0001F600": 5, "\u0080": 6, "\u00f6": 7}
    assert list(json.loads(canonical_json(keys))) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001F600", "\ufb33"]


@pytest.mark.parametrize(
    "value, message",
    [
        ({"a": float("nan")}, "nan"),
        ([float("inf")], "inf"),
        ({1: "x"}, "keys must be strings"),
        ({"a": 2**53}, "safe integer"),
        ({"a": b"bytes"}, "unsupported type"),
    ],
)
def test_canonical_json_refuses_what_json_cannot_say_the_same_everywhere(value, message):
    with pytest.raises(StatementError, match=message):
        canonical_json(value)


# keys and strings from every plane, including U+E000-U+FFFF and astral characters, where
# UTF-16 order (RFC 8785) and code point order (Python) part; floats, where spellings part
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
    | st.sampled_from(["\ue000", "\uffff", "\U0001f600", "\x7f", "\u2028", "\x1f"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(any_text | st.sampled_from(["\ufb33", "\U0001f600", "a", "\u00f6"]), children, max_size=4),
    max_leaves=14,
)


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_canonical_json_is_byte_for_byte_the_rfc8785_package(value):
    assert canonical_json(value) == rfc8785.dumps(value)


@given(st.integers(min_value=2**53) | st.integers(max_value=-(2**53)))
@settings(max_examples=20, deadline=None)
def test_canonical_json_refuses_integers_a_browser_would_round(i):
    with pytest.raises(StatementError, match="safe integer"):
        canonical_json({"a": [i]})


# --- statements ----------------------------------------------------------------------------------


def test_statement_bytes_are_canonical_json_with_exactly_the_documented_fields():
    data = ballot().canonical()
    assert data == (
        b'{"act":"ballot.cast","at":"2030-05-01T12:00:00.000000Z","content":{"ranking":["b","a"]},'
        b'"council":"river-valley","key":"' + key_id(ANA_PUB).encode() + b'","object":"proposal:12",'
        b'"type":"councils.statement/v1"}'
    )
    assert parse_statement(data) == ballot()
    assert json.loads(data)["type"] == FORMAT


def test_hashed_content_stands_for_the_same_content():
    full = ballot()
    hashed = Statement(
        act="ballot.cast", council="river-valley", object="proposal:12", at=AT, key=key_id(ANA_PUB),
        content_sha256=content_sha256({"ranking": ["b", "a"]}),
    )
    assert "content" not in hashed.to_json()
    assert hashed.content_digest() == full.content_digest()
    assert parse_statement(hashed.canonical()) == hashed


def test_null_content_is_content():
    assert parse_statement(ballot(content=None).canonical()).content is None


def test_sign_and_verify_round_trip():
    signed = sign_statement(ballot(), ANA)
    assert verify_statement(signed.statement, signed.signature, ANA_PUB) == ballot()
    again = SignedStatement(signed.statement, decode_signature(signed.to_json()["signature"]))
    assert again == signed


def test_changed_statement_or_signature_is_refused():
    signed = sign_statement(ballot(), ANA)
    forged = signed.statement.replace(b'"b","a"', b'"a","b"')
    with pytest.raises(BadStatementSignature, match="ballot.cast of proposal:12"):
        verify_statement(forged, signed.signature, ANA_PUB)
    flipped = bytes([signed.signature[0] ^ 1]) + signed.signature[1:]
    with pytest.raises(BadStatementSignature):
        verify_statement(signed.statement, flipped, ANA_PUB)
    with pytest.raises(BadStatementSignature):
        verify_statement(signed.statement, signed.signature[:63], ANA_PUB)


def test_another_members_key_cannot_sign_or_verify_an_act_naming_ana():
    with pytest.raises(StatementError, match="names another key"):
        sign_statement(ballot(), BEA)
    # the server cannot sign in Ana's name with a key of its own, even naming that key
    own = sign_statement(ballot(key=key_id(BEA_PUB)), BEA)
    with pytest.raises(StatementError, match="not this key"):
        verify_statement(own.statement, own.signature, ANA_PUB)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"act": "Ballot"}, "act"),
        ({"act": "ballot..cast"}, "act"),
        ({"council": ""}, "council"),
        ({"object": "x" * 201}, "object is longer"),
        ({"object": "a\nb"}, "object must not contain control"),
        ({"at": "2030-05-01T12:00:00Z"}, "YYYY-MM-DD"),
        ({"at": "2030-05-01T12:00:00.000000+00:00"}, "YYYY-MM-DD"),
        ({"at": "2030-02-30T12:00:00.000000Z"}, "not a real date"),
        ({"key": "ABC"}, "key must be a key ID"),
        ({"content_sha256": "0" * 64}, "exactly one of content and content_sha256"),
        ({"content": {"x": float("nan")}}, "content cannot be written"),
    ],
)
def test_malformed_statements_are_refused(changes, message):
    with pytest.raises(StatementError, match=message):
        ballot(**changes)


def test_hashed_content_must_be_a_sha256():
    with pytest.raises(StatementError, match="64 lowercase hex"):
        Statement(act="ballot.cast", council="c", object="o", at=AT, key=key_id(ANA_PUB), content_sha256="ABC")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"[1]", "a JSON object"),
        (b"{", "not JSON"),
        (b"\xff", "not UTF-8"),
        (b'{"type":"councils.statement/v1","type":"x"}', "twice"),
        (b'{"a":NaN}', "NaN"),
        (b'{"type":"other/v1"}', "type must be"),
        (b'{"type":"councils.statement/v1"}', "lacks field"),
    ],
)
def test_malformed_statement_bytes_are_refused(data, message):
    with pytest.raises(StatementError, match=message):
        parse_statement(data)


def test_non_canonical_or_extended_bytes_are_refused():
    body = ballot().to_json()
    with pytest.raises(StatementError, match="not in canonical form"):
        parse_statement(json.dumps(body, indent=1).encode())
    with pytest.raises(StatementError, match="unknown field"):
        parse_statement(rfc8785.dumps({**body, "member": "ana"}))


# --- encodings a browser produces ----------------------------------------------------------------


def test_public_key_encoding_matches_webcrypto_raw_and_jwk():
    text = encode_public_key(ANA_PUB)
    assert len(text) == 43 and "=" not in text
    assert base64.urlsafe_b64decode(text + "=") == ANA_PUB
    assert decode_public_key(text) == ANA_PUB
    # what WebCrypto's exportKey("jwk") gives for the same key (same as cryptography's JWK)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": text, "key_ops": ["verify"], "ext": True}
    assert public_key_from_jwk(jwk) == ANA_PUB
    with pytest.raises(StatementError, match="private key"):
        public_key_from_jwk({**jwk, "d": text})
    with pytest.raises(StatementError, match="OKP"):
        public_key_from_jwk({"kty": "EC", "crv": "P-256", "x": text})


@pytest.mark.parametrize("text, message", [("A" * 42, "32 bytes"), (encode_public_key(ANA_PUB) + "=", "without padding"), ("A" * 42 + "B", "canonical")])
def test_bad_public_key_strings_are_refused(text, message):
    with pytest.raises(StatementError, match=message):
        decode_public_key(text)


def test_signature_encoding_is_86_base64url_characters():
    sig = sign_statement(ballot(), ANA).signature
    assert len(encode_signature(sig)) == 86 and decode_signature(encode_signature(sig)) == sig
    with pytest.raises(StatementError, match="64 bytes"):
        decode_signature(encode_signature(sig)[:80])


def test_key_id_is_sha256_prefix_of_raw_key():
    import hashlib

    assert key_id(ANA_PUB) == hashlib.sha256(ANA_PUB).hexdigest()[:32]


def test_times_are_written_in_utc_with_microseconds():
    moment = datetime(2030, 5, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2030-05-01T12:00:00.000005Z"
    assert parse_time(format_time(moment)) == moment
    with pytest.raises(StatementError, match="timezone-aware"):
        format_time(datetime(2030, 5, 1))


# --- many at once --------------------------------------------------------------------------------


def test_verify_many_names_exactly_the_bad_ones_in_one_process_and_in_several():
    keys = [bytes([i]) * 32 for i in range(5)]
    items = []
    for i in range(60):
        seed = keys[i % 5]
        st_ = ballot(key=key_id(public_key_of(seed)), object=f"proposal:{i}")
        signed = sign_statement(st_, seed)
        items.append((signed.statement, signed.signature, public_key_of(seed)))
    items[7] = (items[7][0] + b" ", items[7][1], items[7][2])  # changed message
    items[23] = (items[23][0], items[24][1], items[23][2])  # another act's signature
    items[41] = (items[41][0], items[41][1], b"\x00" * 31)  # not a key
    items[59] = (items[59][0], items[59][1], public_key_of(keys[0]))  # wrong member
    assert verify_many(items, processes=1) == [7, 23, 41, 59]
    assert verify_many(items, processes=2, parallel_from=10, chunk=16) == [7, 23, 41, 59]


def test_verify_statements_gives_the_reason_of_each_failure():
    signed = [sign_statement(ballot(object=f"proposal:{i}"), ANA) for i in range(30)]
    items = [(s.statement, s.signature, ANA_PUB) for s in signed]
    items[3] = (items[3][0].replace(b"ballot.cast", b"ballot.CAST"), items[3][1], ANA_PUB)
    items[11] = (items[11][0], items[11][1], BEA_PUB)
    items[20] = (items[20][0], items[21][1], ANA_PUB)
    expected = [(3, "act 'ballot.CAST'"), (11, "names key"), (20, "does not verify")]
    for result in (verify_statements(items, processes=1), verify_statements(items, processes=2, parallel_from=5, chunk=7)):
        assert [i for i, _ in result] == [i for i, _ in expected]
        for (_, reason), (_, words) in zip(result, expected):
            assert words in reason


# --- keys no one should trust --------------------------------------------------------------------

ZERO_KEY = bytes(32)  # a point of order 4
ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
IDENTITY = bytes([1]) + bytes(31)
NON_CANONICAL = (2**255 - 19 + 5).to_bytes(32, "little")  # y = 5, written as y + p


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_small_order_keys_would_verify_a_signature_nobody_made_and_are_refused():
    # what a bare library accepts: the all-zero "signature" under the all-zero key
    Ed25519PublicKey.from_public_bytes(ZERO_KEY).verify(bytes(64), b"x")
    for weak in (ZERO_KEY, ORDER_8, IDENTITY, bytes([0xEC]) + b"\xff" * 30 + b"\x7f", bytes(31) + b"\x80"):
        with pytest.raises(StatementError, match="small order"):
            decode_public_key(b64u(weak))
        with pytest.raises(StatementError, match="small order"):
            encode_public_key(weak)
    with pytest.raises(StatementError, match="not canonically encoded"):
        decode_public_key(b64u(NON_CANONICAL))
    statement = ballot(key=key_id(ZERO_KEY)).canonical()
    with pytest.raises(StatementError, match="small order"):
        verify_statement(statement, bytes(64), ZERO_KEY)
    assert verify_many([(b"x", bytes(64), ZERO_KEY)], processes=1) == [0]


def test_note_verifier_keys_refuse_small_order_points():
    from councils.record.note import NoteError, VerifierKey

    with pytest.raises(NoteError, match="small order"):
        VerifierKey(name="evil.example", alg=1, public_key=ORDER_8)
