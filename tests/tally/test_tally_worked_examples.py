"""Published worked examples; each expected answer comes from its source, not from this code."""

import pytest

from councils.tally import (
    Profile, condorcet_winner, tally_borda, tally_copeland, tally_irv, tally_ranked_pairs,
    tally_schulze, tally_stv_meek, tally_stv_scottish,
)


def schulze_45_voters() -> Profile:
    # Schulze (2011), section 3.1, and Wikipedia "Schulze method", example 1.
    groups = [("ACBED", 5), ("ADECB", 5), ("BEDAC", 8), ("CABED", 3), ("CAEBD", 7),
              ("CBADE", 2), ("DCEBA", 7), ("EBADC", 8)]
    rankings = [list(order) for order, n in groups for _ in range(n)]
    return Profile.from_rankings("ABCDE", rankings)


def test_schulze_45_voter_example_gives_e_and_full_ranking():
    result = tally_schulze(schulze_45_voters(), seed=1)
    assert result.winners == ["E"]
    assert result.ranking == [["E"], ["A"], ["C"], ["B"], ["D"]]
    assert result.lots == []


def test_schulze_45_voter_example_pairwise_matrix_matches_the_paper():
    d = schulze_45_voters().pairwise()
    # Row A of the published matrix d[*,*]: 20, 26, 30, 22 against B, C, D, E.
    assert d[0, 1:].tolist() == [20, 26, 30, 22]
    assert d[4, :4].tolist() == [23, 27, 21, 31]


def test_schulze_45_voter_example_strongest_paths_match_the_paper():
    result = tally_schulze(schulze_45_voters())
    p = result.extra["strongest_paths"]
    # Wikipedia's table of strongest paths p[*,*].
    assert p[0] == [0, 28, 28, 30, 24]
    assert p[4] == [25, 28, 28, 31, 0]


def test_ranked_pairs_on_the_45_voter_example_elects_a():
    # Wikipedia "Schulze method", comparison table: ranked pairs (margins) elects A here.
    assert tally_ranked_pairs(schulze_45_voters()).winners == ["A"]


def test_tennessee_capital_example():
    # Wikipedia "Condorcet method" / "Instant-runoff voting": Memphis 42, Nashville 26, Chattanooga 15, Knoxville 17.
    names = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
    rankings = ([["Memphis", "Nashville", "Chattanooga", "Knoxville"]] * 42
                + [["Nashville", "Chattanooga", "Knoxville", "Memphis"]] * 26
                + [["Chattanooga", "Knoxville", "Nashville", "Memphis"]] * 15
                + [["Knoxville", "Chattanooga", "Nashville", "Memphis"]] * 17)
    p = Profile.from_rankings(names, rankings)
    assert condorcet_winner(p) == "Nashville"
    assert tally_schulze(p).winners == ["Nashville"]
    assert tally_ranked_pairs(p).winners == ["Nashville"]
    assert tally_copeland(p).winners == ["Nashville"]
    assert tally_irv(p).winners == ["Knoxville"]
    # Borda article's Tennessee table: Nashville 194, Chattanooga 173, Memphis 126, Knoxville 107.
    assert tally_borda(p).totals == {"Memphis": 126, "Nashville": 194, "Chattanooga": 173, "Knoxville": 107}


def wikipedia_food_election() -> Profile:
    # Wikipedia "Single transferable vote", example: 20 voters, 3 seats.
    groups = [(["Orange"], 4), (["Pear", "Orange"], 2), (["Chocolate", "Strawberry"], 8),
              (["Chocolate", "Hamburger"], 4), (["Strawberry"], 1), (["Hamburger"], 1)]
    return Profile.from_rankings(["Orange", "Pear", "Chocolate", "Strawberry", "Hamburger"],
                                 [r for r, n in groups for _ in range(n)])


def test_scottish_stv_food_election_count():
    result = tally_stv_scottish(wikipedia_food_election(), 3, seed=0)
    assert result.quota == 6
    assert result.winners == ["Chocolate", "Orange", "Strawberry"]
    # Stage 2: Chocolate's surplus of 6 moves at 0.5: 4 to Strawberry, 2 to Hamburger.
    assert result.rounds[1].transfers == {"Strawberry": 4.0, "Hamburger": 2.0}
    assert result.rounds[2].excluded == ["Pear"]


def wikipedia_cpo_example() -> Profile:
    # Wikipedia "CPO-STV", example: 100 voters, 3 seats; the article's STV count elects Andrea, Carter, Scott.
    groups = [(["Andrea"], 25), (["Carter", "Brad", "Delilah"], 34), (["Brad", "Delilah"], 7),
              (["Delilah", "Brad"], 8), (["Delilah", "Scott"], 5), (["Scott", "Delilah"], 21)]
    return Profile.from_rankings(["Andrea", "Carter", "Brad", "Delilah", "Scott"],
                                 [r for r, n in groups for _ in range(n)])


def test_scottish_stv_truncates_transfer_values_to_five_decimals():
    result = tally_stv_scottish(wikipedia_cpo_example(), 3, seed=0)
    assert result.quota == 26  # floor(100 / 4) + 1
    assert sorted(result.winners) == ["Andrea", "Carter", "Scott"]
    # Carter's surplus 8 / 34 = 0.235294... truncated to 0.23529 on each of 34 papers.
    assert result.rounds[1].transfers == {"Brad": pytest.approx(34 * 0.23529, abs=1e-9)}
    assert result.rounds[1].tallies["Brad"] == pytest.approx(7 + 7.99986, abs=1e-9)
    assert result.rounds[1].non_transferable == pytest.approx(8 - 7.99986, abs=1e-9)


def test_meek_stv_cpo_example_elects_andrea_carter_scott():
    # By Algorithm 123: with Carter and Scott elected, quota q solves 3q = 74 (q = 24.667) and Andrea's 25 exceeds it.
    result = tally_stv_meek(wikipedia_cpo_example(), 3, seed=0)
    assert sorted(result.winners) == ["Andrea", "Carter", "Scott"]
    # Andrea is elected when Scott's exhausting surplus pulls the quota below her 25.
    assert result.quota < 25


def test_meek_stv_food_election():
    # Meek on the Wikipedia food election: Chocolate, then Orange and Strawberry as in the article.
    result = tally_stv_meek(wikipedia_food_election(), 3, seed=0)
    assert sorted(result.winners) == ["Chocolate", "Orange", "Strawberry"]
