"""Lots come from a seed nobody knows before the vote closes: a digest of the ballots."""

import json

import numpy as np
import pytest

from councils.commands.tally import main
from councils.tally import (
    Profile, ballots_digest, ballots_seed, seed_from_digest, table_digest, tally_approval, tally_copeland,
    tally_irv, tally_ranked_pairs, tally_schulze, tally_score, tally_stv_meek, tally_stv_scottish,
)

# Two options level at every stage: only a lot can settle IRV, Copeland, Schulze and STV.
LEVEL = Profile.from_rankings("AB", [["A", "B"], ["B", "A"]])


def test_the_same_ballots_give_the_same_digest_whatever_their_order_or_form():
    rows = [["A", "B"], ["C"], ["A", "B"], [("B", "C")]]
    one = Profile.from_rankings("ABC", rows)
    other = Profile.from_rankings("ABC", list(reversed(rows)))
    merged = Profile.from_rankings("ABC", [["C"], [("B", "C")], ["A", "B"]], counts=[1, 1, 2])
    assert ballots_digest(one) == ballots_digest(other) == ballots_digest(merged)
    strict = Profile.from_orders("ABC", [[0, 1, -1], [2, -1, -1], [0, 1, -1]])
    assert ballots_digest(strict) == ballots_digest(Profile.from_rankings("ABC", [["A", "B"], ["C"], ["A", "B"]]))


def test_one_ballot_more_or_changed_changes_the_seed():
    base = Profile.from_rankings("ABC", [["A", "B"], ["C"]])
    more = Profile.from_rankings("ABC", [["A", "B"], ["C"], ["C"]])
    changed = Profile.from_rankings("ABC", [["A", "C"], ["C"]])
    renamed = Profile.from_rankings("ABD", [["A", "B"], ["D"]])
    seeds = {ballots_seed(p) for p in (base, more, changed, renamed)}
    assert len(seeds) == 4 and all(0 <= s < 2**52 for s in seeds)
    assert ballots_seed(base) == seed_from_digest(ballots_digest(base))


@pytest.mark.parametrize("count", [
    lambda p, **kw: tally_irv(p, **kw), lambda p, **kw: tally_schulze(p, **kw),
    lambda p, **kw: tally_copeland(p, **kw), lambda p, **kw: tally_ranked_pairs(p, **kw),
    lambda p, **kw: tally_stv_scottish(p, 1, **kw), lambda p, **kw: tally_stv_meek(p, 1, **kw),
])
def test_without_a_seed_the_lot_is_drawn_from_the_ballots_digest_and_can_be_redrawn(count):
    first = count(LEVEL)
    assert first.lots and first.seed == ballots_seed(LEVEL)
    again = count(LEVEL, seed=first.seed)
    assert (again.winners, again.lots) == (first.winners, first.lots)
    assert count(LEVEL).lots == first.lots  # no fresh entropy anywhere


def test_approval_and_score_lots_come_from_their_ballots_too():
    result = tally_approval("AB", [{"A"}, {"B"}])
    assert result.lots and result.seed == seed_from_digest(table_digest("AB", np.array([[1, 0], [0, 1]])))
    scored = tally_score("AB", [[3, 1], [1, 3]], max_score=5)
    assert scored.seed == seed_from_digest(table_digest("AB", np.array([[3, 1], [1, 3]]), scale=1000))


def test_a_count_without_a_tie_draws_nothing_and_needs_no_seed():
    result = tally_irv(Profile.from_rankings("AB", [["A"], ["A"], ["B"]]))
    assert result.lots == [] and result.seed is None


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        tally_irv(LEVEL, seed=-1)


def test_the_command_line_prints_the_seed_and_reproduces_the_draw(tmp_path, capsys):
    path = tmp_path / "level.soi"
    path.write_text("# DATA TYPE: soi\n# NUMBER ALTERNATIVES: 2\n1: 1,2\n1: 2,1\n")
    assert main([str(path), "--method", "irv"]) == 0
    human = capsys.readouterr().out
    seed = ballots_seed(LEVEL.__class__.from_rankings(("1", "2"), [["1", "2"], ["2", "1"]]))
    assert f"seed: {seed} (re-run the draw with --seed {seed})" in human
    assert main([str(path), "--method", "irv", "--json"]) == 0
    derived = json.loads(capsys.readouterr().out)
    assert derived["seed"] == seed and derived["lots"]
    assert main([str(path), "--method", "irv", "--json", "--seed", str(seed)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["winners"], again["lots"], again["seed"]) == (derived["winners"], derived["lots"], seed)
    other = next(s for s in range(100) if tally_irv(LEVEL, seed=s).winners != tally_irv(LEVEL, seed=seed).winners)
    assert main([str(path), "--method", "irv", "--json", "--seed", str(other)]) == 0
    assert json.loads(capsys.readouterr().out)["winners"] != derived["winners"]
