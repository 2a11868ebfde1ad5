"""Properties every count must keep, checked on random small profiles."""

import numpy as np
from hypothesis import given, settings, strategies as st

from councils.tally import (
    Profile, condorcet_winner, tally_copeland, tally_irv, tally_ranked_pairs, tally_schulze,
    tally_stv_meek, tally_stv_scottish,
)
from tally_factories import random_profile

profiles = st.builds(
    lambda seed, m, n: random_profile(np.random.default_rng(seed), m, n),
    st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(1, 40),
)
SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(profiles)
def test_condorcet_winner_wins_schulze_ranked_pairs_and_copeland(p):
    winner = condorcet_winner(p)
    if winner is not None:
        assert tally_schulze(p, seed=0).winners == [winner]
        assert tally_ranked_pairs(p, seed=0).winners == [winner]
        assert tally_copeland(p, seed=0).winners == [winner]


@SETTINGS
@given(profiles)
def test_majority_first_choice_wins_irv(p):
    first = p.ranks.argmin(axis=1)
    shares = np.bincount(first[p.ranks.min(axis=1) == 0], weights=p.counts[p.ranks.min(axis=1) == 0],
                         minlength=p.n_options)
    if shares.max() * 2 > p.counts.sum():
        assert tally_irv(p, seed=0).winners == [p.options[int(shares.argmax())]]


@SETTINGS
@given(profiles, st.integers(0, 1000))
def test_scottish_stv_with_one_seat_equals_irv(p, seed):
    # IRV excludes together options that could not overtake the next, so it draws fewer lots:
    # the two agree wherever no lot was needed.
    stv, irv = tally_stv_scottish(p, 1, seed=seed), tally_irv(p, seed=seed)
    if not stv.lots and not irv.lots:
        assert stv.winners == irv.winners


@SETTINGS
@given(profiles, st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_ballot_order(p, seed):
    orders = np.repeat(p.orders(), p.counts.astype(int), axis=0)
    shuffled = Profile.from_orders(p.options, np.random.default_rng(seed).permutation(orders))
    for method in (tally_irv, tally_schulze, tally_ranked_pairs):
        assert method(shuffled, seed=1).to_dict() == method(p, seed=1).to_dict()
    seats = min(2, p.n_options)
    assert tally_stv_scottish(shuffled, seats, seed=1).to_dict() == tally_stv_scottish(p, seats, seed=1).to_dict()
    assert tally_stv_meek(shuffled, seats, seed=1).winners == tally_stv_meek(p, seats, seed=1).winners


@SETTINGS
@given(profiles)
def test_merging_identical_ballots_changes_nothing(p):
    expanded = np.repeat(p.orders(), p.counts.astype(int), axis=0)
    merged = Profile.from_orders(p.options, expanded)
    assert len(merged.counts) == len(p.counts)
    assert np.array_equal(merged.pairwise(), p.pairwise())
    weighted = Profile.from_orders(p.options, p.orders(), p.counts)
    assert tally_stv_scottish(weighted, 1, seed=3).to_dict() == tally_stv_scottish(merged, 1, seed=3).to_dict()


@SETTINGS
@given(profiles)
def test_stv_elects_exactly_the_seats(p):
    for seats in range(1, p.n_options + 1):
        for method in (tally_stv_scottish, tally_stv_meek):
            winners = method(p, seats, seed=0).winners
            assert len(winners) == seats == len(set(winners))


@SETTINGS
@given(profiles)
def test_result_to_dict_is_json_serialisable(p):
    import json
    for result in (tally_irv(p, seed=0), tally_schulze(p, seed=0), tally_stv_scottish(p, 1, seed=0),
                   tally_stv_meek(p, 1, seed=0)):
        json.dumps(result.to_dict())
