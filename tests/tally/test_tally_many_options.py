"""A file may name up to 10,000 alternatives: IRV, STV, Copeland, Schulze and ranked pairs count it in seconds."""

import json
import time

import numpy as np
import pytest

from councils.commands.tally import main
from councils.tally import Profile, tally_copeland, tally_irv, tally_stv_meek
from councils.tally import condorcet

M = 10_000


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """300 ballots, each ranking 8 of 10,000 alternatives (most alternatives get no vote at all)."""
    rng = np.random.default_rng(7)
    popular = rng.choice(M, size=40, replace=False)
    lines = ["# DATA TYPE: soi", f"# NUMBER ALTERNATIVES: {M}"]
    for _ in range(300):
        picks = rng.choice(popular, size=8, replace=False) if rng.random() < 0.8 else rng.choice(M, 8, replace=False)
        lines.append(f"{rng.integers(1, 4)}: " + ",".join(str(x + 1) for x in picks))
    path = tmp_path_factory.mktemp("many") / "many.soi"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["irv", "stv-meek", "copeland"])
def test_ten_thousand_alternatives_are_counted_in_seconds(many, method, capsys):
    start = time.perf_counter()
    assert main([str(many), "--method", method, "--json"] + (["--seats", "3"] if method == "stv-meek" else [])) == 0
    elapsed = time.perf_counter() - start
    result = json.loads(capsys.readouterr().out)
    assert len(result["options"]) == M and result["winners"]
    assert elapsed < 30, f"{method} took {elapsed:.1f} s"  # seconds on a loaded two-core machine; the bound is in the docs


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["schulze", "ranked-pairs"])
def test_schulze_and_ranked_pairs_count_ten_thousand_alternatives(many, method, capsys):
    # They refused more than 1,000 options until issue 13 (item 8); see test_tally_many_condorcet.py.
    start = time.perf_counter()
    assert main([str(many), "--method", method, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["options"]) == M and result["winners"] and result["pairwise"] is None
    assert time.perf_counter() - start < 30


def test_bulk_exclusion_keeps_the_irv_winner_of_one_at_a_time_exclusion():
    # 6 options, two with no votes and two with one vote each: the four lowest go together
    # (2 votes in all, fewer than the next option's 3), and the winner is the one-by-one winner.
    p = Profile.from_rankings("ABCDEF", [["A"]] * 4 + [["B", "A"]] * 3 + [["C", "B"], ["D", "B"]] + [["E"]] * 0)
    result = tally_irv(p, seed=0)
    assert result.rounds[0].excluded == ["E", "F", "C", "D"] or sorted(result.rounds[0].excluded) == list("CDEF")
    assert result.winners == ["B"] and "together" in result.rounds[0].note


def test_copeland_by_blocks_equals_the_whole_matrix(monkeypatch):
    rng = np.random.default_rng(3)
    orders = np.full((60, 30), -1)
    for b in range(60):
        k = rng.integers(1, 31)
        orders[b, :k] = rng.permutation(30)[:k]
    p = Profile.from_orders([f"o{i}" for i in range(30)], orders, rng.integers(1, 4, 60))
    whole = tally_copeland(p, seed=1)
    monkeypatch.setattr(condorcet, "MATRIX_OPTIONS", 4)
    blocks = tally_copeland(p, seed=1)
    assert (blocks.totals, blocks.winners, blocks.pairwise) == (whole.totals, whole.winners, None)


def test_meek_excludes_options_no_vote_reaches_together():
    p = Profile.from_rankings([f"o{i}" for i in range(50)],
                              [["o1"]] * 4 + [["o2", "o3"]] * 3 + [["o3"]] * 3 + [["o4"]] * 2)
    result = tally_stv_meek(p, 2, seed=0)
    zero = [r for r in result.rounds if len(r.excluded) > 1]
    assert len(zero) == 1 and len(zero[0].excluded) == 46 and "o4" not in zero[0].excluded
    assert "no votes excluded together" in zero[0].note and "o1" in result.winners
