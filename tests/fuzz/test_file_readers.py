"""Fuzzing the file readers: whatever the bytes, a clear error (a ValueError subclass naming the problem),
never another exception and never a hang.

Three kinds of input for each reader: arbitrary text, text built from the format's own tokens (so the
fuzzer gets past the first line), and valid files with random edits. Each example has a deadline, so a
reader that loops or explodes on some input fails the test instead of hanging it.
"""

import contextlib
import io
import json
import math
import os
import signal
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from councils.planning.economy import EconomyError
from councils.planning.io import NPZ_FIELDS, economy_from_dict, economy_to_dict, load_economy
from councils.planning.synthetic import synthetic_economy
from councils.tally import tally_borda, tally_stv_scottish
from councils.tally.formats import MAX_TOTAL, BallotFileError, parse_blt, parse_preflib
from councils.tally.profile import ProfileError

LIMIT_S = 5
FUZZ = settings(max_examples=int(os.environ.get("COUNCILS_FUZZ_EXAMPLES", "60")), deadline=timedelta(seconds=5), derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])

PREFLIB = """# FILE NAME: fuzz.soi
# DATA TYPE: soi
# NUMBER ALTERNATIVES: 3
# ALTERNATIVE NAME 1: Ana
# ALTERNATIVE NAME 2: Ben
# ALTERNATIVE NAME 3: Cy
# NUMBER VOTERS: 6
# NUMBER UNIQUE ORDERS: 3
3: 1,2,3
2: 2,1
1: 3
"""
TOC = """# DATA TYPE: toc
# NUMBER ALTERNATIVES: 3
2: 1,{2,3}
1: {1,2,3}
"""
BLT = """3 1
-2
4 1 2 3 0
2 2 0
1 3 1 0
0
"Ana"
"Ben"
"Cy"
"A fuzzed election"
"""

PREFLIB_TOKENS = st.sampled_from(
    ["# DATA TYPE: soi", "# DATA TYPE: toc", "# DATA TYPE: soc", "# NUMBER ALTERNATIVES: ", "# ALTERNATIVE NAME ",
     "# NUMBER VOTERS: ", "#", ":", ",", "{", "}", " ", "\n", "0", "1", "2", "3", "-1", "99999999999999999999", "1e3",
     "nan", "\t", "\r", "\x00", "é"])
BLT_TOKENS = st.sampled_from(
    ["3 1", "0", "1", "2", "3", "-1", "-4", " ", "\n", '"', '"Ana"', "=", "1.5", "-0.5", "1e308", "inf", "nan",
     "99999999999999999999", "\t", "\x00", "é", "#"])


def token_text(tokens):
    return st.lists(tokens, max_size=60).map("".join)


def mutated(valid: str):
    """A valid file with a few characters replaced, inserted or deleted."""
    edits = st.lists(st.tuples(st.integers(0, len(valid)), st.integers(0, 3), st.text(max_size=4)), min_size=1, max_size=6)

    def apply(changes):
        text = valid
        for at, remove, insert in changes:
            at = min(at, len(text))
            text = text[:at] + insert + text[at + remove:]
        return text

    return edits.map(apply)


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds=LIMIT_S):
    """A reader that has not answered in this time is hanging: fail the example, at once."""

    def alarm(signum, frame):
        raise Hang(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def reads_or_refuses(parse, text, *refusals):
    """The reader either gives a result or raises one of its clear errors, in bounded time."""
    try:
        with time_limit():
            result = parse(text)
    except refusals as exc:
        assert str(exc), "an error must say what is wrong"
        return None
    return result


# ---------------------------------------------------------------- PrefLib


@FUZZ
@given(st.one_of(st.text(max_size=300), token_text(PREFLIB_TOKENS), mutated(PREFLIB), mutated(TOC)))
@example("# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 99999999999999999999\n1: 1\n")
@example("# DATA TYPE: toc\n# NUMBER ALTERNATIVES: 2\n1: {1,{2}}\n")
@example("# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 0\n")
@example("# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 2\n99999999999999999999: 1\n")
def test_preflib_reader_refuses_bad_files_clearly(text):
    profile = reads_or_refuses(parse_preflib, text, BallotFileError)
    if profile is not None:
        assert np.isfinite(profile.counts).all() and profile.counts.sum() <= MAX_TOTAL
        # What was read can be counted (or refused as uncountable, clearly).
        try:
            with time_limit():
                tally_borda(profile)
        except (ProfileError, ValueError) as exc:
            assert str(exc)


@FUZZ
@given(st.sampled_from([None, "soc", "soi", "toc", "toi", "xyz", ""]), mutated(PREFLIB))
def test_preflib_reader_with_a_given_data_type(data_type, text):
    reads_or_refuses(lambda t: parse_preflib(t, data_type=data_type), text, BallotFileError)


# ---------------------------------------------------------------- BLT


@FUZZ
@given(st.one_of(st.text(max_size=300), token_text(BLT_TOKENS), mutated(BLT)))
@example("3 1\n1e308 1 2 0\n0\n\"a\"\n\"b\"\n\"c\"\n\"t\"\n")
@example("99999999999999999999 1\n0\n")
@example("2 1\nnan 1 0\n0\n\"a\"\n\"b\"\n\"t\"\n")
@example("2 1\ninf 1 0\n0\n\"a\"\n\"b\"\n\"t\"\n")
@example("1 1\n1 1 0\n0\n\"a\n\"t\"\n")
@example('3 1\n1 99999999999999999999 0\n0\n"a"\n"b"\n"c"\n"t"\n')  # was an OverflowError
@example('3 1\n1e308 1 0\n1e308 2 0\n0\n"a"\n"b"\n"c"\n"t"\n')  # was counted, wrongly, as garbage
def test_blt_reader_refuses_bad_files_clearly(text):
    election = reads_or_refuses(parse_blt, text, BallotFileError)
    if election is not None:
        assert np.isfinite(election.profile.counts).all() and election.profile.counts.sum() <= MAX_TOTAL
        try:
            with time_limit():
                tally_stv_scottish(election.profile, seats=election.seats)
        except (ProfileError, ValueError) as exc:
            assert str(exc)


# ---------------------------------------------------------------- economies

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
ECONOMY_KEYS = ["products", "workplaces", "needs", "labour_budget", "name", "unit", "product", "labour", "capacity",
                "inputs", "hours", "council", "quantity", "priority", "format", "version"]


@st.composite
def edited_economies(draw):
    """A valid economy's dictionary with some values replaced by random JSON."""
    seed = draw(st.integers(0, 3))
    data = economy_to_dict(synthetic_economy((3, 4, 2), seed=seed))
    for _ in range(draw(st.integers(1, 4))):
        node = data
        for _depth in range(draw(st.integers(0, 3))):
            if isinstance(node, dict) and node:
                child = node[draw(st.sampled_from(sorted(node)))]
            elif isinstance(node, list) and node:
                child = node[draw(st.integers(0, len(node) - 1))]
            else:
                break
            if not isinstance(child, (dict, list)):
                break
            node = child
        value = draw(JSON_VALUES | st.sampled_from([-1, 0, 1e308, -1e-308, 10**30, "", [], {}]))
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node) or ECONOMY_KEYS) | st.sampled_from(ECONOMY_KEYS))
            if draw(st.booleans()):
                node[key] = value
            else:
                node.pop(key, None)
        elif isinstance(node, list) and node:
            node[draw(st.integers(0, len(node) - 1))] = value
    return data


@FUZZ
@given(st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(ECONOMY_KEYS), JSON_VALUES, max_size=6), edited_economies()))
def test_economy_json_reader_refuses_bad_economies_clearly(data):
    reads_or_refuses(economy_from_dict, data, EconomyError)


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 edited_economies().map(lambda d: json.dumps(d).encode())))
def test_economy_json_files_refuse_bad_bytes_clearly(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("econ") / "economy.json"
    path.write_bytes(raw)
    reads_or_refuses(load_economy, path, EconomyError)


ARRAYS = st.one_of(
    st.integers(-3, 5).map(lambda v: np.array(v)),
    st.lists(st.integers(-3, 5), max_size=6).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6).map(lambda v: np.array(v, dtype=float)),
    st.lists(st.text(max_size=3), max_size=4).map(lambda v: np.array(v, dtype=str)),
    st.just(np.zeros((2, 2))),
    st.just(np.array([], dtype=bool)),
    st.just(np.array([1 + 2j])),
)


@st.composite
def npz_files(draw):
    """A valid economy's .npz with some arrays replaced, or removed."""
    buffer = io.BytesIO()
    from councils.planning.io import save_economy

    path_arrays = {}
    e = synthetic_economy((3, 4, 2), seed=draw(st.integers(0, 3)))
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        save_economy(e, Path(folder) / "e.npz")
        with np.load(Path(folder) / "e.npz") as z:
            path_arrays = {name: z[name] for name in z.files}
    for name in draw(st.lists(st.sampled_from(NPZ_FIELDS), min_size=1, max_size=4, unique=True)):
        if draw(st.integers(0, 5)) == 0:
            path_arrays.pop(name)
        else:
            path_arrays[name] = draw(ARRAYS)
    np.savez(buffer, **path_arrays)
    return buffer.getvalue()


@FUZZ
@given(st.one_of(npz_files(), st.binary(max_size=300)))
def test_economy_npz_reader_refuses_bad_files_clearly(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("econ") / "economy.npz"
    path.write_bytes(raw)
    reads_or_refuses(load_economy, path, EconomyError)


def test_a_valid_economy_round_trips_through_both_formats(tmp_path):
    from councils.planning.io import save_economy

    e = synthetic_economy((3, 4, 2), seed=1)
    for name in ("e.json", "e.npz"):
        save_economy(e, tmp_path / name)
        assert economy_to_dict(load_economy(tmp_path / name)) == economy_to_dict(e)
    assert math.isfinite(e.labour_budget)


@pytest.mark.parametrize("raw, field", [
    (b"\xff\xfe not UTF-8", "(file)"),
    (b"[" * 100_000 + b"]" * 100_000, "(file)"),  # nested deeper than Python's recursion limit
    (b"PK\x03\x04 truncated zip", "(file)"),
])
def test_hostile_economy_files_get_a_clear_error(tmp_path, raw, field):
    for suffix in (".json", ".npz"):
        path = tmp_path / f"economy{suffix}"
        path.write_bytes(raw)
        with pytest.raises(EconomyError) as refused:
            with time_limit():
                load_economy(path)
        assert refused.value.field == field
