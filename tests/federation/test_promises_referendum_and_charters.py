"""Issue 14: a referendum that rejects a federation decision undoes it where undoing is defined, and says so; members
pick the decision by what they can see; councils and federations change their charters by their own votes."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.decisions.models import Proposal
from councils.decisions.services import cast_ballot, create_proposal, get_decision, settle_due
from councils.errors import Invalid
from councils.federation.models import Affiliation
from councils.federation.petitions import open_petition, sign_petition
from councils.federation.services import charter_of, create_federation_proposal
from councils.record.models import RecordEntry
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db


def mandated(clock, decide, federation, councils, proposal, choice="yes"):
    for council in councils:
        decide(Proposal.objects.get(council=council, mandate_for=proposal), choice, close=False)
    clock.set(proposal.voting_ends + timedelta(seconds=1))
    return get_decision(proposal)


def referendum_on(clock, federation, councils, members_of, decision, no=True):
    """Members sign a referendum petition on ``decision`` and vote in it; returns the referendum's decision."""
    petition = open_petition(members_of(councils[1])[1], federation, kind="referendum", title="Does it stand?",
                             target=decision.proposal)
    voters = [m for c in councils for m in members_of(c)]
    for voter in voters:
        petition.refresh_from_db()
        if petition.result_id:
            break
        sign_petition(voter, petition)
    petition.refresh_from_db()
    referendum = petition.result
    clock.set(referendum.deliberation_ends)
    for voter in voters:
        cast_ballot(voter, referendum, "no" if no else "yes")
    clock.set(referendum.voting_ends + timedelta(seconds=1))
    settle_due(federation)
    return get_decision(referendum)


def test_a_competences_change_rejected_by_referendum_is_restored_and_the_page_says_so(
        clock, decide, federation_of, members_of):
    federation, councils = federation_of([3, 3], charter={"competences": ["bread"], "referendum_member_share": "0.2"})
    proposal = create_federation_proposal(members_of(councils[0])[0], federation, title="Add transport",
                                          kind="competences", competences=["bread", "transport"])
    decision = mandated(clock, decide, federation, councils, proposal)
    assert charter_of(federation).competences == ["bread", "transport"]
    overruling = referendum_on(clock, federation, councils, members_of, decision)
    assert overruling.outcome == "rejected"
    assert charter_of(federation).competences == ["bread"]  # in force again
    entry = RecordEntry.objects.get(chain=federation.record_chain, kind="decision.overruled")
    assert "competences" in json.loads(entry.data_json)["undone"]
    page = Client().get(proposal.get_absolute_url()).content.decode()
    assert "Overruled by referendum" in page and overruling.proposal.get_absolute_url() in page
    answer = Client().get(f"/api/proposals/{proposal.pk}").json()
    assert answer["result"]["overruled_by"] == overruling.proposal.pk
    assert verify_all().ok


def test_a_referendum_that_confirms_a_decision_changes_nothing(clock, decide, federation_of, members_of):
    federation, councils = federation_of([3, 3], charter={"competences": ["bread"], "referendum_member_share": "0.2"})
    proposal = create_federation_proposal(members_of(councils[0])[0], federation, title="Add transport",
                                          kind="competences", competences=["bread", "transport"])
    decision = mandated(clock, decide, federation, councils, proposal)
    assert referendum_on(clock, federation, councils, members_of, decision, no=False).outcome == "adopted"
    assert charter_of(federation).competences == ["bread", "transport"]
    assert "Overruled" not in Client().get(proposal.get_absolute_url()).content.decode()


def test_an_admission_overruled_by_referendum_ends_the_membership(clock, decide, federation_of, members_of, make_council,
                                                                  join_federation):
    federation, councils = federation_of([3, 3], charter={"competences": ["bread"], "referendum_member_share": "0.2"},
                                         admission="open")
    federation.charter.admission = "vote"
    federation.charter.save()
    newcomer = make_council(members=2)
    author = members_of(newcomer)[0]
    now = clock.now()
    request = create_proposal(author, newcomer, kind="affiliation", federation=federation, title="Join",
                              deliberation_ends=now, voting_ends=now + timedelta(hours=1))
    decide(request, "yes")
    admission = Proposal.objects.get(council=federation, kind="admission")
    decision = mandated(clock, decide, federation, councils, admission)
    assert decision.outcome == "adopted"
    assert Affiliation.objects.filter(federation=federation, council=newcomer, left_at__isnull=True).exists()
    referendum_on(clock, federation, councils, members_of, decision)
    affiliation = Affiliation.objects.get(federation=federation, council=newcomer)
    assert affiliation.left_at is not None


def test_the_petition_form_and_api_pick_the_decision_by_its_title_and_proposal_id(clock, decide, federation_of, members_of):
    federation, councils = federation_of([3, 3], charter={"competences": ["bread"], "referendum_member_share": "0.2"})
    proposal = create_federation_proposal(members_of(councils[0])[0], federation, title="Raise bread price", matter="bread")
    mandated(clock, decide, federation, councils, proposal)
    member = members_of(councils[1])[1]
    page = Client()
    page.force_login(member)
    form = page.get(f"/c/{federation.slug}/petitions/new/").content.decode()
    assert f'<option value="{proposal.pk}"' in form and "Raise bread price" in form
    page.post(f"/c/{federation.slug}/petitions/new/", {"kind": "referendum", "title": "By the page", "target": proposal.pk})
    assert federation.petitions.filter(title="By the page", target__proposal=proposal).exists()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(member, 'tests')[1]}")
    answer = api.post(f"/api/federations/{federation.slug}/petitions",
                      {"kind": "referendum", "title": "By the API", "target": proposal.pk}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["target"] == proposal.pk
    refused = api.post(f"/api/federations/{federation.slug}/petitions",
                       {"kind": "referendum", "title": "Not ours", "target": Proposal.objects.filter(mandate_for=proposal).first().pk},
                       content_type="application/json")
    assert refused.status_code == 422


def test_a_council_changes_its_charter_by_its_own_supermajority_and_open_votes_keep_their_rules(
        clock, make_council, members_of, decide):
    council = make_council(members=2)
    ada, bo, cy = members_of(council)
    open_before = create_proposal(ada, council, title="Open before", deliberation_ends=clock.now(),
                                  voting_ends=clock.now() + timedelta(days=3))
    change = create_proposal(ada, council, kind="charter", title="Two thirds by default, quorum one half",
                             payload={"decision_method": "two_thirds", "quorum": "0.5", "voting_period": 86400},
                             deliberation_ends=clock.now(), voting_ends=clock.now() + timedelta(hours=1))
    assert change.decision_method == "two_thirds"  # the charter's method for changing itself
    decision = decide(change, ["yes", "yes", "no"])
    assert decision.outcome == "adopted"
    council.charter.refresh_from_db()
    assert council.charter.decision_method == "two_thirds" and council.charter.quorum == Decimal("0.5")
    assert council.charter.voting_period == timedelta(days=1)
    open_before.refresh_from_db()
    assert open_before.decision_method == "majority" and open_before.quorum == Decimal("0.25")
    assert RecordEntry.objects.filter(chain=council.record_chain, kind="charter.amended").exists()
    assert verify_all().ok


def test_a_charter_change_short_of_the_supermajority_fails(clock, make_council, members_of, decide):
    council = make_council(members=2)
    change = create_proposal(members_of(council)[0], council, kind="charter", title="Secret ballots",
                             payload={"secret_ballots": True}, deliberation_ends=clock.now(),
                             voting_ends=clock.now() + timedelta(hours=1))
    assert decide(change, ["yes", "no", "no"]).outcome == "rejected"
    council.charter.refresh_from_db()
    assert council.charter.secret_ballots is False


def test_charter_changes_are_checked(clock, make_council, members_of):
    council = make_council(members=1)
    ada = members_of(council)[0]
    for payload in ({}, {"quorum": "2"}, {"nonsense": 1}, {"decision_method": "majority"}, None):
        with pytest.raises(Invalid):
            create_proposal(ada, council, kind="charter", title="Bad", payload=payload)
    with pytest.raises(Invalid):
        create_proposal(ada, council, kind="motion", title="Sneaky", payload={"quorum": "0.1"})


def test_charter_change_by_the_page_and_the_api(clock, make_council, members_of):
    council = make_council(members=1)
    ada = members_of(council)[0]
    page = Client()
    page.force_login(ada)
    form = page.get(f"/c/{council.slug}/charter/change/")
    assert form.status_code == 200
    data = {"title": "Longer officer terms", "body": "", "admission": "open", "decision_method": "majority",
            "quorum_percent": "25", "deliberation_days": "3", "voting_days": "4", "officer_term_days": "730",
            "officer_term_limit": "2", "mandate": "bound", "recall_threshold_percent": "20",
            "charter_change_method": "two_thirds"}
    page.post(f"/c/{council.slug}/charter/change/", data)
    proposal = Proposal.objects.get(council=council, kind="charter")
    assert proposal.payload == {"officer_term": 730 * 86400}
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(ada, 'tests')[1]}")
    answer = api.post(f"/api/councils/{council.slug}/proposals",
                      {"title": "Admission by vote", "kind": "charter", "charter_changes": {"admission": "vote"}},
                      content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["charter_changes"] == {"admission": "vote"}


def test_a_federation_changes_its_charter_by_its_councils_mandates(clock, decide, federation_of, members_of):
    federation, councils = federation_of([3, 3], charter={"competences": ["bread"], "referendum_member_share": "0.2"})
    delegate = members_of(councils[0])[0]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(delegate, 'tests')[1]}")
    answer = api.post(f"/api/federations/{federation.slug}/proposals",
                      {"title": "Weigh by members", "kind": "federation_charter",
                       "charter_changes": {"weighting": "members", "delegate_term": 180 * 86400}},
                      content_type="application/json")
    assert answer.status_code == 201, answer.content
    proposal = Proposal.objects.get(pk=answer.json()["id"])
    assert proposal.decision_method == "two_thirds"
    decision = mandated(clock, decide, federation, councils, proposal)
    assert decision.outcome == "adopted"
    charter = charter_of(federation)
    assert charter.weighting == "members" and charter.delegate_term == timedelta(days=180)
    # Overruled by the members: the previous weighting and term are restored.
    referendum_on(clock, federation, councils, members_of, decision)
    charter = charter_of(federation)
    assert charter.weighting == "equal" and charter.delegate_term == timedelta(days=365)
    assert verify_all().ok


def test_a_federation_charter_change_by_the_page(clock, decide, federation_of, members_of):
    federation, councils = federation_of([2, 2], charter={"competences": ["bread"]})
    page = Client()
    page.force_login(members_of(councils[0])[0])
    assert page.get(f"/c/{federation.slug}/federation/proposals/new/").status_code == 200
    page.post(f"/c/{federation.slug}/federation/proposals/new/", {
        "kind": "federation_charter", "title": "Two seats", "decision_method": "majority", "weighting": "equal",
        "delegate_seats": "2", "delegate_term_days": "365", "delegate_term_limit": "2", "mandate_period_days": "7",
        "convocation_share_percent": "33.3", "referendum_council_share_percent": "33.3",
        "referendum_member_share_percent": "10"})
    proposal = Proposal.objects.get(council=federation, kind="federation_charter")
    assert proposal.payload == {"delegate_seats": 2}
