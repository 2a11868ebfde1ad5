"""Differential tests: the same winners as peer libraries wherever they implement the same rule.

Known rule differences, tested around rather than away:
- pref_voting's Schulze (beat path) uses margins, ours winning votes: compared on complete rankings.
- pref_voting's IRV and ranked pairs report every winner under some tie order
  (parallel universes); ours must be one of them, and the only one when theirs is unique.
- pref_voting's Scottish STV may transfer an elected candidate's truncation residue again
  and breaks lots with Python's random; STVPoll rounds transfer values half-even instead of
  truncating them, and transfers surpluses serially; Meek peers use their own tolerances. So
  STV comparisons are made on profiles where no tie arises in our count (no lot was drawn)
  and the margins at every decision exceed what rounding can move.
"""

import numpy as np
import pytest

from councils.tally import tally_irv, tally_ranked_pairs, tally_schulze, tally_stv_meek, tally_stv_scottish
from tally_factories import random_profile

pv_profiles = pytest.importorskip("pref_voting.profiles_with_ties", reason="pref_voting is not installed")
pv_vm = pytest.importorskip("pref_voting.voting_methods")
pv_prop = pytest.importorskip("pref_voting.proportional_methods")
pv_margin = pytest.importorskip("pref_voting.margin_based_methods")


def to_pref_voting(p):
    rankings = []
    for row in p.ranks:
        rankings.append({i: int(r) for i, r in enumerate(row) if r != np.iinfo(np.int16).max})
    q = pv_profiles.ProfileWithTies(rankings, rcounts=[int(c) for c in p.counts], candidates=list(range(p.n_options)))
    # Ours reads an unranked option as below every ranked one; pref_voting must be told to.
    q.use_extended_strict_preference()
    return q


def profiles(count, m=(3, 6), n=(5, 40), seed=20240601):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield random_profile(rng, int(rng.integers(*m)), int(rng.integers(*n)))


def names(p, idx):
    return sorted(p.options[i] for i in idx)


def test_irv_schulze_ranked_pairs_agree_with_pref_voting():
    for p in profiles(300):
        q = to_pref_voting(p)
        ours = tally_irv(p, seed=0)
        theirs = names(p, pv_vm.instant_runoff_put(q))
        assert ours.winner in theirs
        if len(theirs) == 1:
            assert ours.winners == theirs
        rp = tally_ranked_pairs(p, seed=0)
        theirs = names(p, pv_margin.ranked_pairs(q))
        assert rp.winner in theirs
        if len(theirs) == 1:
            assert rp.winners == theirs


def test_schulze_agrees_with_pref_voting_beat_path_on_complete_rankings():
    # pref_voting's Schulze (beat path) measures links by margins, ours by winning votes as in
    # Schulze (2011); the two coincide when every ballot ranks every option, and only then.
    rng = np.random.default_rng(5)
    for _ in range(300):
        p = random_profile(rng, int(rng.integers(3, 7)), int(rng.integers(3, 40)), truncate=False)
        assert sorted(tally_schulze(p, seed=0).ranking[0]) == names(p, pv_margin.beat_path(to_pref_voting(p)))


def _clear(result) -> bool:
    """No lot, and no decision closer than rounding could matter."""
    if result.lots:
        return False
    for r in result.rounds:
        vals = sorted(r.tallies.values())
        if any(b - a < 0.01 for a, b in zip(vals, vals[1:])):
            return False
    return True


def test_scottish_stv_agrees_with_pref_voting():
    compared = 0
    for p in profiles(300, m=(3, 7), n=(10, 60), seed=7):
        seats = 2 if p.n_options > 3 else 1
        ours = tally_stv_scottish(p, seats, seed=0)
        if not _clear(ours):
            continue
        compared += 1
        assert sorted(ours.winners) == names(p, pv_prop.stv_scottish(to_pref_voting(p), num_seats=seats))
    assert compared > 50


def test_meek_stv_agrees_with_pref_voting():
    compared = 0
    for p in profiles(100, m=(3, 7), n=(10, 60), seed=11):
        seats = 2 if p.n_options > 3 else 1
        ours = tally_stv_meek(p, seats, seed=0)
        if not _clear(ours):
            continue
        compared += 1
        assert sorted(ours.winners) == names(p, pv_prop.stv_meek(to_pref_voting(p), num_seats=seats))
    assert compared > 30


def test_scottish_stv_agrees_with_stvpoll():
    stvpoll = pytest.importorskip("stvpoll.scottish_stv", reason="stvpoll is not installed")
    compared = 0
    for p in profiles(300, m=(3, 7), n=(10, 60), seed=13):
        seats = 2 if p.n_options > 3 else 1
        ours = tally_stv_scottish(p, seats, seed=0)
        if not _clear(ours):
            continue
        ballots = [([p.options[i] for i in row if i >= 0], int(c)) for row, c in zip(p.orders(), p.counts)]
        result = stvpoll.calculate_scottish_stv(p.options, ballots, seats, random_shuffle=False)
        if result.as_dict().get("randomized"):
            continue
        compared += 1
        assert sorted(ours.winners) == sorted(str(c) for c in result.elected_as_set())
    assert compared > 50


def test_scottish_stv_agrees_with_pyrankvote():
    pyrankvote = pytest.importorskip("pyrankvote", reason="pyrankvote is not installed")
    compared = 0
    for p in profiles(200, m=(3, 7), n=(10, 60), seed=17):
        seats = 2 if p.n_options > 3 else 1
        ours = tally_stv_scottish(p, seats, seed=0)
        if not _clear(ours):
            continue
        cands = [pyrankvote.Candidate(o) for o in p.options]
        ballots = []
        for row, c in zip(p.orders(), p.counts):
            ballots += [pyrankvote.Ballot(ranked_candidates=[cands[i] for i in row if i >= 0])] * int(c)
        result = pyrankvote.single_transferable_vote(cands, ballots, number_of_seats=seats)
        compared += 1
        assert sorted(ours.winners) == sorted(c.name for c in result.get_winners())
    assert compared > 30
