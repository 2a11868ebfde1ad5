"""Ballot files as they come: the fast readers agree with the line readers, counts are plain digits,
and real BLT files (OpenSTV, droop) are read with their withdrawn candidates, nicknames and tie orders."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from councils.commands.tally import main
from councils.tally import BallotFileError, tally_irv, tally_stv_meek, tally_stv_scottish
from councils.tally import formats
from councils.tally.formats import parse_blt, parse_preflib, read_blt

FILES = Path(__file__).parent / "files"
READERS = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------- counts in plain digits

@pytest.mark.parametrize("count, column", [("１", 1), ("1_0", 2), ("+2", 1), ("2.0", 2), ("٣", 1), (" 1 0", 3)])
def test_preflib_counts_must_be_ascii_digits_and_the_error_names_line_and_column(count, column):
    text = f"# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 2\n3: 1,2\n{count}: 2\n"
    with pytest.raises(BallotFileError) as refused:
        parse_preflib(text)
    assert refused.value.line == 4 and refused.value.column == column
    assert "line 4, column" in str(refused.value) and "digits 0-9" in str(refused.value)


@pytest.mark.parametrize("alternative", ["１", "1_0", "+2", "0x1"])
def test_preflib_alternatives_must_be_ascii_digits(alternative):
    with pytest.raises(BallotFileError) as refused:
        parse_preflib(f"# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 2\n3: 1,{alternative}\n")
    assert refused.value.line == 3 and refused.value.column is not None


@pytest.mark.parametrize("weight", ["１", "1_0", "+2", "1e3", "nan", "inf"])
def test_blt_weights_must_be_ascii_digits(weight):
    text = f'2 1\n3 1 0\n{weight} 2 0\n0\n"a"\n"b"\n"t"\n'
    with pytest.raises(BallotFileError) as refused:
        parse_blt(text)
    assert refused.value.line == 3 and refused.value.column == 1


def test_a_number_of_alternatives_in_full_width_digits_is_refused():
    with pytest.raises(BallotFileError, match="NUMBER ALTERNATIVES"):
        parse_preflib("# DATA TYPE: soi\n# NUMBER ALTERNATIVES: ２\n1: 1\n")


# ---------------------------------------------------------------- fast readers and line readers agree

def _outcome(parse, text):
    try:
        p = parse(text)
    except BallotFileError as exc:
        return "refused", str(exc)
    p = getattr(p, "profile", p)
    return "read", p.options, sorted(p.rankings(), key=repr)


@st.composite
def preflib_texts(draw):
    kind = draw(st.sampled_from(["soc", "soi", "toc", "toi"]))
    m = draw(st.integers(1, 12))
    lines = [f"# DATA TYPE: {kind}", f"# NUMBER ALTERNATIVES: {m}"]
    sep = draw(st.sampled_from([",", ", ", " ,"]))
    for _ in range(draw(st.integers(0, 30))):
        order = [int(x) + 1 for x in draw(st.permutations(range(m)))]
        if kind in ("soi", "toi"):
            order = order[: draw(st.integers(1, m))]
        groups, i = [], 0
        while i < len(order):
            size = draw(st.integers(1, 3)) if kind in ("toc", "toi") else 1
            group = order[i : i + size]
            groups.append(str(group[0]) if len(group) == 1 else "{" + ",".join(map(str, group)) + "}")
            i += size
        count = draw(st.integers(0, 10**draw(st.integers(0, 12))))
        lines.append(f"{count}:{draw(st.sampled_from(['', ' ', '  ']))}{sep.join(groups)}")
        if draw(st.integers(0, 20)) == 0:
            lines.append(draw(st.sampled_from(["", "# a comment", "   "])))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["\n", ""]))
    # Now and then an edit that may break it: the two readers must still agree.
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["", "1", "0", ",", ":", "{", "}", " ", "\n", "１", "_", "+", "\t",
                                                  "99999999999999999999"])) + text[at + draw(st.integers(0, 2)):]
    return text


@READERS
@given(preflib_texts())
def test_the_fast_preflib_reader_agrees_with_the_line_reader(text):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "_preflib_block_fast", lambda *args: None)
        slow = _outcome(parse_preflib, text)
    assert _outcome(parse_preflib, text) == slow


@st.composite
def blt_texts(draw):
    m = draw(st.integers(1, 9))
    seats = draw(st.integers(1, m))
    lines = [f"{m} {seats}"]
    for _ in range(draw(st.integers(1, 30))):
        prefs = [str(int(x) + 1) for x in draw(st.permutations(range(m)))][: draw(st.integers(0, m))]
        lines.append(" ".join([str(draw(st.integers(0, 10**draw(st.integers(0, 9)))))] + prefs + ["0"]))
    lines += ["0"] + [f'"c{i}"' for i in range(m)] + ['"title"']
    text = "\n".join(lines) + "\n"
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["", "1", "0", " ", "  ", "\n", "１", "_", "+", "#", "=", "(7)",
                                                  "99999999999999999999"])) + text[at + draw(st.integers(0, 2)):]
    return text


@READERS
@given(blt_texts())
def test_the_fast_blt_reader_agrees_with_the_line_reader(text):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "_blt_ballots_fast", lambda *args: None)
        slow = _outcome(parse_blt, text)
    assert _outcome(parse_blt, text) == slow


def test_large_plain_files_take_the_fast_readers(monkeypatch):
    rng = np.random.default_rng(1)
    orders = np.argsort(rng.random((3000, 7)), axis=1) + 1
    soc = "# DATA TYPE: soc\n# NUMBER ALTERNATIVES: 7\n" + "".join(
        f"{c}: {','.join(map(str, row))}\n" for c, row in zip(rng.integers(1, 5, 3000), orders))
    blt = "7 2\n" + "".join(f"{c} {' '.join(map(str, row[:k]))} 0\n"
                           for c, row, k in zip(rng.integers(1, 5, 3000), orders, rng.integers(1, 8, 3000)))
    blt += "0\n" + "".join(f'"c{i}"\n' for i in range(7)) + '"t"\n'

    def refuse(*args):
        raise AssertionError("the line reader was used")

    monkeypatch.setattr(formats, "_preflib_block_lines", refuse)
    monkeypatch.setattr(formats, "_blt_ballots_lines", refuse)
    assert parse_preflib(soc).n_ballots == int(soc.count("\n") and sum(int(l.split(":")[0]) for l in soc.splitlines()[2:]))
    assert parse_blt(blt).profile.n_options == 7


# ---------------------------------------------------------------- real BLT files

def test_openstv_file_with_a_withdrawn_candidate_and_ballot_ids():
    election = read_blt(FILES / "openstv_withdrawn.blt")
    assert election.withdrawn == ["Dara O'Neill"] and election.seats == 2
    assert "Dara O'Neill" not in election.profile.options
    result = tally_stv_scottish(election.profile, election.seats)
    # The withdrawn candidate's ballot (b4) counts for its next preference, Chen Wei: 4 + 1 first preferences.
    assert result.totals["Chen Wei"] == 5
    assert result.winners == ["Chen Wei", "Bruno Costa"]


def test_droop_file_with_nicknames_withdrawn_tie_order_and_notes():
    election = read_blt(FILES / "droop_options.blt")
    assert election.candidates[0] == "Ada Lovelace" and election.nicknames["cy"] == "Cy Twombly"
    assert election.withdrawn == ["Di Fossey"]
    assert election.tie_order == ["Cy Twombly", "Ada Lovelace", "Fay Weldon", "Bo Rothstein", "Ed Ruscha"]
    assert election.title == "Workers co-op board, droop export"
    assert election.notes == ["source: droop 0.1", "counted with Meek"]
    result = tally_stv_meek(election.profile, election.seats, tie_order=election.tie_order)
    assert result.totals["Ed Ruscha"] == 8  # 5 of his own, 3 from the withdrawn Di Fossey
    assert sorted(result.winners) == ["Ada Lovelace", "Bo Rothstein", "Cy Twombly"]


def test_two_ways_of_withdrawing_and_several_quoted_lines_after_the_title():
    election = read_blt(FILES / "withdrawn_bracket_and_minus.blt")
    assert election.withdrawn == ["North", "South"] and election.profile.options == ("East", "West")
    assert election.notes == ["two candidates withdrawn"]
    assert tally_irv(election.profile).winners == ["East"]


def test_the_files_tie_order_decides_a_tie_no_stage_can(tmp_path):
    election = read_blt(FILES / "tie_by_order.blt")
    assert election.tie_order == ["Birch", "Cedar", "Alder"]
    result = tally_irv(election.profile, tie_order=election.tie_order)
    # All three level at the only stage: the least favoured (Alder) goes; Birch then has a majority.
    assert result.rounds[0].excluded == ["Alder"] and result.winners == ["Birch"]
    assert "tie-breaking order" in result.rounds[0].note and result.seed is None  # no lot was drawn
    reversed_order = (FILES / "tie_by_order.blt").read_text().replace("[tie 2 3 1]", "[tie 1 3 2]")
    path = tmp_path / "reversed.blt"
    path.write_text(reversed_order)
    again = read_blt(path)
    assert tally_irv(again.profile, tie_order=again.tie_order).winners == ["Cedar"]


def test_the_command_line_honours_the_files_tie_order(capsys):
    assert main([str(FILES / "tie_by_order.blt"), "--method", "irv", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["winners"] == ["Birch"]
    assert main([str(FILES / "droop_options.blt"), "--method", "stv-scottish"]) == 0
    assert "winners:" in capsys.readouterr().out


@pytest.mark.parametrize("change, line, words", [
    ("[tie 2 3 1]", "[tie 2 3 9]", "not a candidate number"),
    ("[tie 2 3 1]", "[tie 2 2 1]", "named twice"),
    ("[tie 2 3 1]", "[colour 2 3 1]", "unknown option"),
    ("[tie 2 3 1]", "[tie 2 3 1", "no closing"),
    ("[tie 2 3 1]", "[nick a b]", "one nickname to each"),
])
def test_bad_droop_options_name_the_line(change, line, words):
    text = (FILES / "tie_by_order.blt").read_text().replace(change, line)
    with pytest.raises(BallotFileError) as refused:
        parse_blt(text)
    assert refused.value.line == 2 and words in str(refused.value)


def test_unknown_nickname_in_a_ballot_names_line_and_column():
    text = (FILES / "droop_options.blt").read_bytes().replace(b"9 bo ada 0", b"9 bo zed 0")
    with pytest.raises(BallotFileError) as refused:
        parse_blt(text)
    assert (refused.value.line, refused.value.column) == (6, 6) and "'zed'" in str(refused.value)
