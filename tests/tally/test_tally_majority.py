from fractions import Fraction

import pytest

from councils.tally import tally_consensus, tally_majority


def test_simple_majority_needs_more_than_half_of_votes_cast():
    assert tally_majority(5, 5, 3, members=20).outcome == "rejected"
    assert tally_majority(6, 5, 3, members=20).adopted


def test_supermajority_of_members_counts_silence_against():
    result = tally_majority(14, 0, members=30, threshold=Fraction(1, 2), base="members")
    assert not result.adopted
    assert tally_majority(20, 1, members=30, threshold=Fraction(2, 3), base="members").adopted


def test_quorum_counts_abstentions_exactly():
    assert tally_majority(4, 3, 3, members=30, quorum=Fraction(1, 3)).quorum_met
    assert tally_majority(4, 3, 2, members=30, quorum=Fraction(1, 3)).outcome == "no_quorum"


def test_consensus_fails_on_a_single_block_and_fallback_needs_the_charter():
    assert tally_consensus(20, 2, 1, members=25).outcome == "rejected"
    assert tally_consensus(20, 2, 0, members=25).adopted
    with pytest.raises(ValueError, match="no fallback"):
        tally_consensus(20, 2, 1, members=25, fallback_round=True)
    assert tally_consensus(20, 2, 1, members=25, fallback_round=True, fallback_threshold=Fraction(3, 4)).adopted


def test_negative_votes_are_refused():
    with pytest.raises(ValueError):
        tally_majority(-1, 0, members=3)
