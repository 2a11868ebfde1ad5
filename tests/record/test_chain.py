import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from councils.record import GENESIS, canonical_json, next_entry, verify_chain

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def build(datas):
    entries, head = [], None
    for i, data in enumerate(datas):
        head = next_entry(head, chain="c", at=f"2030-01-01T00:00:{i:02d}", actor="ana", kind="k", subject=f"s:{i}", data={"v": data})
        entries.append(head)
    return entries


def test_first_entry_links_to_genesis():
    entry = build([1])[0]
    assert entry.seq == 0 and entry.prev_hash == GENESIS and len(entry.hash) == 64


def test_canonical_json_ignores_key_order_and_refuses_nan():
    assert canonical_json({"b": 1, "a": [1, "é"]}) == canonical_json({"a": [1, "é"], "b": 1}) == '{"a":[1,"é"],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


@settings(max_examples=60, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=8), st.data())
def test_any_change_to_any_entry_is_detected(datas, data):
    entries = build(datas)
    assert verify_chain("c", entries).ok
    i = data.draw(st.integers(0, len(entries) - 1))
    field = data.draw(st.sampled_from(["at", "actor", "kind", "subject", "data"]))
    original = getattr(entries[i], field)
    replacement = {"tampered": True} if field == "data" else f"{original}x"
    entries[i] = dataclasses.replace(entries[i], **{field: replacement})
    result = verify_chain("c", entries)
    assert not result.ok
    assert result.first_break.seq == i


def test_removed_entry_is_detected_at_the_gap():
    entries = build(range(5))
    del entries[2]
    result = verify_chain("c", entries)
    assert result.first_break.seq == 3


def test_reordered_entries_are_detected():
    entries = build(range(4))
    entries[1], entries[2] = entries[2], entries[1]
    assert not verify_chain("c", entries).ok


def test_rehashed_forgery_still_breaks_the_next_link():
    entries = build(range(3))
    forged = dataclasses.replace(entries[1], data={"v": 99})
    forged = next_entry(entries[0], chain="c", at=forged.at, actor=forged.actor, kind=forged.kind, subject=forged.subject, data=forged.data)
    entries[1] = forged
    result = verify_chain("c", entries)
    assert result.first_break.seq == 2
    assert "link" in result.first_break.reason
