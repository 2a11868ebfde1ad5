"""Issue 13, item 8: Schulze and ranked pairs count 10,000 alternatives in seconds.

Above ``condorcet.MATRIX_OPTIONS`` options they work on the strong components of the majority graph instead of the
whole pairwise matrix. These tests force that path on small profiles (``MATRIX_OPTIONS`` patched to 0) and compare
it with the matrix path, which is itself compared with pref_voting in test_tally_peers.py, and with pref_voting.
"""

import json
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from councils.commands.tally import main
from councils.tally import Profile, ProfileError, condorcet, tally_ranked_pairs, tally_schulze
from tally_factories import random_profile

METHODS = [tally_schulze, tally_ranked_pairs]


def both_paths(method, profile, **kwargs):
    matrix = method(profile, **kwargs)
    saved = condorcet.MATRIX_OPTIONS
    condorcet.MATRIX_OPTIONS = 0
    try:
        many = method(profile, **kwargs)
    finally:
        condorcet.MATRIX_OPTIONS = saved
    return matrix, many


def same(matrix, many) -> bool:
    return (matrix.winners, matrix.ranking, matrix.totals, matrix.lots, matrix.seed) == \
        (many.winners, many.ranking, many.totals, many.lots, many.seed)


def short_ballots(rng, m, n, longest, ties=False) -> Profile:
    """n ballots each ranking a few of m options (most options on no ballot), some with equal ranks."""
    if ties:
        ranks = np.full((n, m), -1)
        for b in range(n):
            k = int(rng.integers(1, longest + 1))
            ranks[b, rng.choice(m, k, replace=False)] = rng.integers(0, k, k)
        return Profile.from_ranks([f"o{i}" for i in range(m)], ranks, rng.integers(1, 4, n))
    orders = np.full((n, m), -1)
    for b in range(n):
        k = int(rng.integers(1, longest + 1))
        orders[b, :k] = rng.choice(m, k, replace=False)
    return Profile.from_orders([f"o{i}" for i in range(m)], orders, rng.integers(1, 4, n))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.integers(0, 30), st.sampled_from(METHODS))
def test_the_components_path_equals_the_matrix_path(seed, m, n, method):
    p = random_profile(np.random.default_rng(seed), m, n) if n else Profile.from_orders([f"o{i}" for i in range(m)], np.zeros((0, m), dtype=int))
    assert same(*both_paths(method, p, seed=seed % 1000))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 40), st.integers(1, 25), st.booleans(), st.sampled_from(METHODS))
def test_the_components_path_equals_the_matrix_path_on_short_ballots_with_ties(seed, m, n, ties, method):
    p = short_ballots(np.random.default_rng(seed), m, n, 5, ties)
    assert same(*both_paths(method, p, seed=7))


def test_the_components_path_equals_the_matrix_path_on_cycles_within_cycles():
    # Many ballots over 12-25 options: large strong components, split again and again by Schulze.
    rng = np.random.default_rng(11)
    for _ in range(40):
        p = random_profile(rng, int(rng.integers(12, 26)), int(rng.integers(20, 80)))
        for method in METHODS:
            assert same(*both_paths(method, p, seed=1))


def test_a_tie_order_is_used_alike_on_both_paths():
    rng = np.random.default_rng(4)
    for _ in range(30):
        p = short_ballots(rng, 20, 8, 4)
        order = list(reversed(p.options))
        for method in METHODS:
            assert same(*both_paths(method, p, tie_order=order))


def test_the_components_path_agrees_with_pref_voting(monkeypatch):
    pv_profiles = pytest.importorskip("pref_voting.profiles_with_ties")
    pv_margin = pytest.importorskip("pref_voting.margin_based_methods")
    monkeypatch.setattr(condorcet, "MATRIX_OPTIONS", 0)
    rng = np.random.default_rng(5)
    for _ in range(30):
        p = random_profile(rng, int(rng.integers(3, 6)), int(rng.integers(3, 30)), truncate=False)
        q = pv_profiles.ProfileWithTies([{i: int(r) for i, r in enumerate(row)} for row in p.ranks],
                                        rcounts=[int(c) for c in p.counts], candidates=list(range(p.n_options)))
        # Complete rankings: winning votes and margins agree (see test_tally_peers.py).
        assert sorted(tally_schulze(p, seed=0).ranking[0]) == sorted(p.options[i] for i in pv_margin.beat_path(q))
        theirs = sorted(p.options[i] for i in pv_margin.ranked_pairs(q))
        ours = tally_ranked_pairs(p, seed=0)
        assert ours.winner in theirs and (len(theirs) > 1 or ours.winners == theirs)


M = 10_000


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory):
    """1,000 ballots, each ranking 10 of 10,000 alternatives drawn at random: a third of the alternatives on no
    ballot, the rest mostly tied with each other, with one strong component of about a thousand."""
    rng = np.random.default_rng(1)
    lines = ["# DATA TYPE: soi", f"# NUMBER ALTERNATIVES: {M}"]
    lines += ["1: " + ",".join(str(x + 1) for x in rng.choice(M, 10, replace=False)) for _ in range(1000)]
    path = tmp_path_factory.mktemp("many") / "ten-thousand.soi"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.timeout(180)
@pytest.mark.parametrize("method", ["schulze", "ranked-pairs"])
def test_ten_thousand_alternatives_are_counted_by_schulze_and_ranked_pairs_in_seconds(ten_thousand, method, capsys):
    start = time.perf_counter()
    assert main([str(ten_thousand), "--method", method, "--json"]) == 0
    elapsed = time.perf_counter() - start
    result = json.loads(capsys.readouterr().out)
    assert len(result["options"]) == M and len(result["winners"]) == 1 and result["pairwise"] is None
    assert sum(len(level) for level in result["ranking"]) == M
    assert "not included" in result["notes"][0]
    assert elapsed < 40, f"{method} took {elapsed:.1f} s"  # about 6 s on a loaded two-core machine (docs)


@pytest.mark.parametrize("method", METHODS)
def test_a_component_beyond_the_bound_is_refused_naming_it(monkeypatch, method):
    monkeypatch.setattr(condorcet, "MATRIX_OPTIONS", 0)
    monkeypatch.setattr(condorcet, "MAX_CYCLE_OPTIONS", 3)
    cycle = Profile.from_rankings("ABCDE", [["A", "B", "C", "D", "E"], ["B", "C", "D", "E", "A"], ["C", "D", "E", "A", "B"]])
    with pytest.raises(ProfileError, match="at most 3 of them lie on cycles of majorities together; here 5 do"):
        method(cycle, seed=0)
