"""Ballot files and the `councils tally` command."""

import json

import numpy as np
import pytest

from councils.commands.tally import main
from councils.tally import (
    BallotFileError, Profile, ProfileError, SeatsError, read_blt, read_preflib, tally_stv_scottish,
    write_blt, write_preflib,
)
from councils.tally.formats import parse_blt, parse_preflib

BLT = """4 2
-2
3 1 2 0
4 1 2 3 0
2 3 0
1 4 1 0
0
"Adam"
"Basil"
"Charlotte"
"Donald"
"Election"
"""

TOI = """# DATA TYPE: toi
# NUMBER ALTERNATIVES: 3
# ALTERNATIVE NAME 1: Red
# ALTERNATIVE NAME 2: Green
# ALTERNATIVE NAME 3: Blue
3: 1,{2,3}
2: 3
"""


def test_blt_reader_drops_withdrawn_candidates_and_keeps_weights():
    election = parse_blt(BLT)
    assert election.seats == 2 and election.title == "Election" and election.withdrawn == ["Basil"]
    assert election.profile.options == ("Adam", "Charlotte", "Donald")
    assert sorted(election.profile.rankings(), key=lambda r: -r[1])[0] == ([["Adam"], ["Charlotte"]], 4.0)


def test_blt_round_trip(tmp_path):
    election = parse_blt(BLT)
    path = tmp_path / "e.blt"
    path.write_text(write_blt(election.profile, 2, "again"))
    again = read_blt(path)
    assert sorted(again.profile.rankings()) == sorted(election.profile.rankings())


@pytest.mark.parametrize("text, line, words", [
    (BLT.replace("3 1 2 0", "3 1 9 0"), 3, "not a candidate"),
    (BLT.replace("3 1 2 0", "3 1 1 0"), 3, "twice"),
    (BLT.replace("\n1 4 1 0", "\n-1 4 1 0"), 6, "negative"),
    (BLT.replace("\n2 3 0", "\n2 3"), 5, "end with 0"),
    (BLT.replace("4 2\n", "4 5\n"), 1, "seats"),
    (BLT.replace('"Adam"', "Adam"), 8, "double quotes"),
])
def test_malformed_blt_names_the_line(text, line, words):
    with pytest.raises(BallotFileError) as info:
        parse_blt(text)
    assert info.value.line == line and words in str(info.value)


def test_preflib_reader_reads_ties_and_truncation():
    p = parse_preflib(TOI)
    assert p.options == ("Red", "Green", "Blue")
    assert sorted(p.rankings(), key=lambda r: -r[1]) == [([["Red"], ["Green", "Blue"]], 3.0), ([["Blue"]], 2.0)]


def test_preflib_round_trip(tmp_path):
    p = parse_preflib(TOI)
    path = tmp_path / "x.toi"
    path.write_text(write_preflib(p))
    assert sorted(read_preflib(path).rankings()) == sorted(p.rankings())


@pytest.mark.parametrize("text, line, words", [
    (TOI.replace("3: 1,{2,3}", "3: 1,{2,3"), 6, "unclosed"),
    (TOI.replace("3: 1,{2,3}", "3: 1,4"), 6, "between 1 and 3"),
    (TOI.replace("3: 1,{2,3}", "x: 1"), 6, "whole number"),
    (TOI.replace("3: 1,{2,3}", "-1: 1"), 6, "negative"),
    (TOI.replace("toi", "soi"), 6, "ties are not allowed"),
    (TOI.replace("toi", "toc"), 7, "must rank all"),
])
def test_malformed_preflib_names_the_line(text, line, words):
    with pytest.raises(BallotFileError) as info:
        parse_preflib(text)
    assert info.value.line == line and words in str(info.value)


def test_bad_profiles_are_refused():
    with pytest.raises(ProfileError, match="unknown option"):
        Profile.from_rankings("AB", [["A", "C"]])
    with pytest.raises(ProfileError, match="negative"):
        Profile.from_orders("AB", [[0, 1]], counts=[-1])
    with pytest.raises(ProfileError, match="twice"):
        Profile.from_orders("AB", [[0, 0]])
    with pytest.raises(SeatsError):
        tally_stv_scottish(Profile.from_orders("AB", [[0, 1]]), 3)
    with pytest.raises(ProfileError, match="strict"):
        tally_stv_scottish(Profile.from_rankings("AB", [[("A", "B")]]), 1)


def test_large_blt_uses_the_fast_reader_and_matches_the_line_reader():
    rng = np.random.default_rng(0)
    orders = np.array([(rng.permutation(5)[: rng.integers(1, 6)].tolist() + [-1] * 5)[:5] for _ in range(2000)])
    p = Profile.from_orders("ABCDE", orders)
    lines = ["5 2"] + [" ".join(["1"] + [str(x + 1) for x in row if x >= 0] + ["0"]) for row in orders]
    text = "\n".join(lines + ["0"] + [f'"{c}"' for c in "ABCDE"] + ['"t"']) + "\n"
    fast = parse_blt(text).profile
    slow = parse_blt(text.replace("\n0\n", "\n# end\n0\n", 1)).profile  # a comment forces the line reader
    assert sorted(fast.rankings()) == sorted(slow.rankings()) == sorted(p.rankings())


def test_cli_prints_rounds_and_winners(tmp_path, capsys):
    path = tmp_path / "e.blt"
    path.write_text(BLT)
    assert main([str(path), "--method", "stv-scottish"]) == 0
    out = capsys.readouterr().out
    assert "quota: 4" in out and "stage 2" in out and "winners: Adam, Charlotte" in out


def test_cli_json_records_seed(tmp_path, capsys):
    path = tmp_path / "x.toi"
    path.write_text(TOI)
    assert main([str(path), "--method", "schulze", "--json", "--seed", "42"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["winners"] == ["Red"] and data["seed"] == 42


def test_cli_refuses_a_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / "none.blt"), "--method", "irv"]) != 0
    assert "cannot read" in capsys.readouterr().err


def test_cli_refuses_a_malformed_file_naming_the_line(tmp_path, capsys):
    path = tmp_path / "bad.blt"
    path.write_text(BLT.replace("\n2 3 0", "\n2 3 x 0"))
    assert main([str(path), "--method", "irv"]) != 0
    assert "line 5" in capsys.readouterr().err


def test_cli_refuses_an_unknown_method(tmp_path, capsys):
    path = tmp_path / "e.blt"
    path.write_text(BLT)
    with pytest.raises(SystemExit) as info:
        main([str(path), "--method", "dictator"])
    assert info.value.code != 0
    assert "invalid choice" in capsys.readouterr().err
