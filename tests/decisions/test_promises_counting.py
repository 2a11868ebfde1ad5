"""Issue 14: Meek STV as a decision method; every lot drawn from the ballots (seed shown, reproducible); term limits
checked when the winner takes the seat; only delegates who attended vote on a congress's minutes, by every path."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.decisions.ballots import digest
from councils.decisions.exports import export_ballots
from councils.decisions.models import Proposal
from councils.decisions.services import (
    cast_ballot,
    create_proposal,
    get_decision,
    lot_seed,
)
from councils.assemblies.models import Office
from councils.errors import Invalid, NotAllowed
from councils.federation import congress as congresses
from councils.federation.models import Congress, Delegate
from councils.federation.petitions import open_petition
from councils.federation.services import cast_free_vote, current_delegates, federation_rows
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db


def open_vote(clock, council, author, **kwargs):
    now = clock.now()
    return create_proposal(author, council, title=kwargs.pop("title", "Which one?"), deliberation_ends=now,
                           voting_ends=now + timedelta(hours=2), **kwargs)


def test_meek_stv_is_a_decision_method_for_motions_and_elections(clock, make_council, members_of):
    council = make_council(members=4)
    members = members_of(council)
    proposal = open_vote(clock, council, members[0], decision_method="stv_meek", seats=2, options=["Ada", "Bo", "Cy"])
    o = {x.label: x.pk for x in proposal.options.all()}
    for member, ranking in zip(members, [["Ada", "Bo"], ["Ada", "Cy"], ["Ada"], ["Bo"], ["Cy", "Bo"]]):
        cast_ballot(member, proposal, {"ranking": [o[x] for x in ranking]})
    clock.advance(hours=3)
    decision = get_decision(proposal)
    assert decision.tally["method"].startswith("stv") and "meek" in decision.tally["method"].lower()
    assert decision.winners[0] == "Ada" and len(decision.winners) == 2
    election = open_vote(clock, council, members[0], kind="election", office="secretary", decision_method="stv_meek", seats=2,
                         options=[{"member": m.username} for m in members[:3]])
    assert election.decision_method == "stv_meek"


def test_a_charter_that_does_not_allow_meek_stv_refuses_it(clock, make_council, members_of):
    council = make_council(members=2, allowed_methods=["majority", "stv"])
    with pytest.raises(Invalid):
        open_vote(clock, council, members_of(council)[0], kind="election", office="secretary", decision_method="stv_meek",
                  seats=2, options=[{"member": m.username} for m in members_of(council)])


def test_meek_stv_through_the_api(clock, make_council, members_of):
    council = make_council(members=3)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(members_of(council)[0], 'tests')[1]}")
    answer = api.post(f"/api/councils/{council.slug}/proposals", {
        "title": "Two seats", "decision_method": "stv_meek", "seats": 2, "options": ["A", "B", "C"]},
        content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["decision_method"] == "stv_meek"


def test_the_lot_seed_is_derived_from_the_ballots_shown_and_reproducible(clock, make_council, members_of, tmp_path):
    council = make_council(members=3)
    members = members_of(council)
    proposal = open_vote(clock, council, members[0], decision_method="irv", options=["A", "B"])
    o = {x.label: x.pk for x in proposal.options.all()}
    cast_ballot(members[0], proposal, {"ranking": [o["A"]]})
    cast_ballot(members[1], proposal, {"ranking": [o["B"]]})
    clock.advance(hours=3)
    decision = get_decision(proposal)
    seed = lot_seed(proposal, decision.ballots_digest)
    assert decision.tally["seed"] == seed and decision.tally["lots"]  # a tie, settled by lot
    page = Client().get(proposal.get_absolute_url())
    assert f"seed {seed}" in page.content.decode()
    answer = Client().get(f"/api/proposals/{proposal.pk}/result").json()
    assert answer["tally"]["seed"] == seed
    # The published ballots and the seed re-run the draw on the command line.
    blt, _ = export_ballots(proposal, "blt")
    path = tmp_path / "ballots.blt"
    path.write_text(blt)
    out = subprocess.run([sys.executable, "-m", "councils.cli", "tally", str(path), "--method", "irv", "--seed", str(seed),
                          "--json", "--no-progress"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rerun = json.loads(out.stdout)
    assert rerun["winners"] == decision.winners and rerun["lots"] == decision.tally["lots"]


def test_federation_counts_draw_their_lots_from_the_councils_ballots(clock, decide, federation_of, members_of):
    from councils.federation.services import create_federation_proposal

    federation, councils = federation_of([2, 2], mandate="free")
    proposal = create_federation_proposal(members_of(councils[0])[0], federation, title="Which oven?", matter="bread",
                                          decision_method="irv", options=["Wood", "Gas"])
    clock.set(proposal.deliberation_ends)
    o = {x.label: x.pk for x in proposal.options.all()}
    cast_free_vote(members_of(councils[0])[0], proposal, {"ranking": [o["Wood"]]})
    cast_free_vote(members_of(councils[1])[0], proposal, {"ranking": [o["Gas"]]})
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    decision = get_decision(proposal)
    assert decision.tally["seed"] == lot_seed(proposal, digest(federation_rows(proposal))) != proposal.pk


def test_countback_draws_with_the_elections_own_seed(clock, make_council, make_user, members_of, decide, join_federation,
                                                    monkeypatch):
    from councils import tally
    from councils.assemblies.services import create_council
    from councils.federation.services import open_recall_petition, sign_recall

    federation = create_council(make_user(), name="F", kind="federation",
                                federation_charter={"competences": ["x"], "delegate_seats": 2})
    council = make_council(members=5)
    join_federation(council, federation)
    a, b, c = members_of(council)[:3]
    now = clock.now()
    election = create_proposal(a, council, kind="delegate_election", federation=federation, seats=2, title="Delegates",
                               options=[{"member": m.username} for m in (a, b, c)], deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))
    ids = {o.member_id: o.pk for o in election.options.all()}
    decision = decide(election, [{"ranking": [ids[m.pk] for m in r]} for r in [[a, b, c], [a, c], [b, c], [b, a], [c, b], [a, b]]])
    seeds = []
    real = tally.tally_irv
    monkeypatch.setattr(tally, "tally_irv", lambda profile, seed=None: seeds.append(seed) or real(profile, seed=seed))
    real_stv = tally.tally_stv_scottish
    monkeypatch.setattr(tally, "tally_stv_scottish",
                        lambda profile, seats, seed=None: seeds.append(seed) or real_stv(profile, seats, seed=seed))
    petition = open_recall_petition(b, Delegate.objects.get(member=a, federation=federation))
    sign_recall(c, petition)
    petition.refresh_from_db()
    decide(petition.vote, "yes")
    assert lot_seed(election, decision.ballots_digest) in seeds and 0 not in seeds


def _elect_officer(clock, council, author, candidates, ranking):
    election = open_vote(clock, council, author, kind="election", office="facilitator",
                         options=[{"member": m.username} for m in candidates])
    o = {x.member_id: x.pk for x in election.options.all()}
    for voter in council.memberships.filter(left_at__isnull=True):
        cast_ballot(voter.member, election, {"ranking": [o[m.pk] for m in ranking]})
    return election


def test_officers_have_a_term_limit_checked_when_proposed_and_when_seated(clock, make_council, members_of):
    council = make_council(members=2, officer_term_limit=1)
    ada, bo, cy = members_of(council)
    first = _elect_officer(clock, council, ada, [ada, bo], [ada, bo])
    # Opened while ada had served no term: the limit is checked again when the winner takes the office.
    second = _elect_officer(clock, council, ada, [ada, bo], [ada, bo])
    clock.advance(hours=3)
    assert get_decision(first).winners == [ada.username]
    assert Office.objects.filter(elected_by=first.decision, holder=ada).exists()
    assert get_decision(second).winners == [ada.username]
    assert not Office.objects.filter(elected_by=second.decision).exists()
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="office.not_taken").exists()
    other = make_council(members=1, officer_term_limit=1)
    dee, eve = members_of(other)
    _elect_officer(clock, other, dee, [dee, eve], [dee, eve])
    clock.advance(hours=3)
    with pytest.raises(Invalid, match="consecutive terms"):
        _elect_officer(clock, other, dee, [dee, eve], [dee, eve])


def test_delegate_term_limit_is_checked_when_the_seat_is_taken(clock, make_council, make_user, members_of, decide,
                                                              join_federation):
    from councils.assemblies.services import create_council

    federation = create_council(make_user(), name="F", kind="federation",
                                federation_charter={"competences": ["x"], "delegate_term_limit": 1})
    council = make_council(members=2)
    join_federation(council, federation)
    a, b = members_of(council)[:2]

    def open_election():
        now = clock.now()
        return create_proposal(a, council, kind="delegate_election", federation=federation, title="Delegate",
                               options=[{"member": a.username}, {"member": b.username}], deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))

    first = open_election()
    clock.advance(minutes=1)
    second = open_election()  # opened while a had served no term
    decide(first, {"ranking": [first.options.get(member=a).pk]}, close=False)
    decide(second, {"ranking": [second.options.get(member=a).pk]}, close=False)
    clock.advance(hours=2)
    get_decision(second)
    assert Delegate.objects.filter(elected_by=first.decision, member=a).exists()
    assert second.decision.winners == [a.username]
    assert not Delegate.objects.filter(elected_by=second.decision).exists()
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="delegate.not_seated").exists()


def test_a_delegate_who_did_not_attend_cannot_vote_on_the_minutes_by_the_free_vote(clock, decide, federation_of, members_of):
    federation, councils = federation_of([2, 2], charter={"competences": ["bread"], "convocation_share": "0.1"},
                                         mandate="free")
    petition = open_petition(members_of(councils[0])[1], federation, kind="convocation", title="Spring congress")
    author = members_of(councils[0])[0]
    now = clock.now()
    demand = create_proposal(author, councils[0], kind="convocation", federation=federation, petition=petition,
                             title="Back it", deliberation_ends=now, voting_ends=now + timedelta(hours=2))
    decide(demand, "yes")
    congress = Congress.objects.get(federation=federation)
    clock.set(congress.starts_at)
    first, absent = members_of(councils[0])[0], members_of(councils[1])[0]
    congresses.register_attendance(first, congress)
    congresses.write_minutes(first, congress, "We met.")
    minutes = congresses.submit_minutes(first, congress)
    with pytest.raises(NotAllowed):
        cast_free_vote(absent, minutes, {"choice": "yes"})
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(absent, 'tests')[1]}")
    assert api.post(f"/api/proposals/{minutes.pk}/free-vote", {"choice": "yes"},
                    content_type="application/json").status_code == 403
    page = Client()
    page.force_login(absent)
    page.post(f"/c/{federation.slug}/p/{minutes.pk}/free-vote/", {"choice": "yes"})
    assert not minutes.federation_ballots.filter(delegate=absent).exists()
    cast_free_vote(first, minutes, "yes")
    assert minutes.federation_ballots.filter(delegate=first).count() == 1
