"""The federation's pages: the tree, the federation page, a delegate's page, a council's delegates, the forms."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client

from councils.decisions.models import Proposal
from councils.federation import petitions
from councils.federation.models import Delegate, FederationBallot, RecallPetition
from councils.federation.services import create_federation_proposal, current_delegates, open_recall_petition
from councils.federation.tree import federation_tree_svg

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def scene(clock, federation_of, members_of, decide):
    federation, (bakery, farm, street) = federation_of([3, 4, 3], charter={"competences": ["bread", "transport"]})
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Shared delivery van", matter="transport")
    decide(Proposal.objects.get(council=bakery, mandate_for=proposal), "yes", close=False)
    clock.set(proposal.deliberation_ends + timedelta(seconds=1))
    from councils.decisions.services import settle_due

    settle_due(None)
    return federation, bakery, farm, street, proposal


def client_for(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_tree_svg_parses_and_names_every_council_and_delegate(scene, clock, members_of):
    federation, bakery, farm, street, _ = scene
    svg = federation_tree_svg(federation, clock.now())
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img" and "style" not in str(svg)
    text = " ".join(root.itertext())
    desc = root.find(f"{SVG}desc").text
    for council in (federation, bakery, farm, street):
        assert council.name in text and council.name in desc
    for council in (bakery, farm, street):
        assert members_of(council)[0].username in text and members_of(council)[0].username in desc


def test_tree_escapes_every_label(clock, federation_of):
    federation, _ = federation_of([2], name="<script>alert(1)</script> & co")
    svg = str(federation_tree_svg(federation, clock.now()))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ElementTree.fromstring(svg)


def test_federation_page_renders_for_anonymous_member_and_delegate(scene, members_of):
    federation, bakery, farm, street, proposal = scene
    for user in (None, members_of(bakery)[1], members_of(bakery)[0]):
        page = client_for(user).get(federation.get_absolute_url())
        assert page.status_code == 200
        html = page.content.decode()
        assert "<svg" in html and "Shared delivery van" in html and "transport" in html
        assert "3 of 3 councils have voted" in html  # each mandate closed at its due time (two without quorum: abstain)
    delegate_page = client_for(members_of(bakery)[0]).get(federation.get_absolute_url()).content.decode()
    assert "Put a question to the federation" in delegate_page


def test_council_page_shows_its_delegates_and_what_they_did(scene, members_of):
    federation, bakery, *_ , proposal = scene
    delegate = current_delegates(bakery, federation).get()
    for user in (None, members_of(bakery)[1]):
        html = client_for(user).get(bakery.get_absolute_url()).content.decode()
        assert "Our delegates" in html and f"/delegates/{delegate.pk}/" in html
        assert "What our delegates did" in html and "Shared delivery van" in html and "mandated" in html


def test_delegate_page_lists_mandated_ballots(scene, members_of):
    federation, bakery, *_ = scene
    delegate = current_delegates(bakery, federation).get()
    mandate = Proposal.objects.get(council=bakery, kind="mandate")
    for user in (None, members_of(bakery)[1], members_of(bakery)[0]):
        html = client_for(user).get(f"/delegates/{delegate.pk}/").content.decode()
        assert "Shared delivery van" in html and "mandated" in html and mandate.get_absolute_url() in html
        assert "yes 1" in html


def test_member_opens_and_signs_a_recall_from_the_delegate_page(federation_of, members_of):
    federation, (bakery,) = federation_of([6], name="Hill Federation")  # a fifth of six: two signatures open the vote
    delegate = current_delegates(bakery, federation).get()
    member, other = members_of(bakery)[1], members_of(bakery)[2]
    page = client_for(member).get(f"/delegates/{delegate.pk}/").content.decode()
    assert "Open a recall petition" in page
    assert "Open a recall petition" not in client_for().get(f"/delegates/{delegate.pk}/").content.decode()
    # The button leads to a page that asks for a reason and for confirmation; nothing is opened before it is sent.
    confirm = client_for(member).get(f"/delegates/{delegate.pk}/recall/").content.decode()
    assert "cannot be undone" in confirm and 'name="reason"' in confirm
    assert client_for(member).post(f"/delegates/{delegate.pk}/recall/", {"reason": " "}).status_code == 200
    assert not RecallPetition.objects.exists()
    client_for(member).post(f"/delegates/{delegate.pk}/recall/", {"reason": "Voted against our mandate on the van."})
    petition = RecallPetition.objects.get(delegate=delegate)
    html = client_for(other).get(f"/delegates/{delegate.pk}/").content.decode()
    assert "1 of 2 signatures" in html and "Sign the recall petition" in html
    assert "Voted against our mandate on the van." in html
    # The federation's page shows it too, with its reason.
    federation_page = client_for().get(federation.get_absolute_url()).content.decode()
    assert "Recall petitions against delegates" in federation_page and "Voted against our mandate on the van." in federation_page
    assert "Voted against our mandate" in client_for(other).get(f"/recall-petitions/{petition.pk}/sign/").content.decode()
    assert petition.signatures.count() == 1  # the confirmation page signs nothing
    client_for(other).post(f"/recall-petitions/{petition.pk}/sign/")
    petition.refresh_from_db()
    assert petition.vote is not None  # the second signature reached the threshold
    assert "the recall vote" in client_for().get(f"/delegates/{delegate.pk}/").content.decode()


def test_outsider_cannot_open_a_recall_from_the_page(scene, make_user):
    federation, bakery, *_ = scene
    delegate = current_delegates(bakery, federation).get()
    client_for(make_user()).post(f"/delegates/{delegate.pk}/recall/", HTTP_REFERER="/")
    assert not RecallPetition.objects.exists()


def test_petition_progress_is_shown_with_councils_and_signatures(scene, members_of):
    federation, bakery, farm, street, _ = scene
    member = members_of(farm)[1]
    convocation = petitions.open_petition(member, federation, kind="convocation", title="Congress on transport")
    referendum = petitions.open_petition(member, federation, kind="referendum", title="Put the van to all")
    html = client_for(members_of(bakery)[1]).get(federation.get_absolute_url()).content.decode()
    needed = petitions.progress(convocation)["councils_needed"]
    assert f"Councils backing: 0 of {needed} needed" in html
    signatures = petitions.progress(referendum)["signatures_needed"]
    assert f"Signatures: 0 of {signatures} needed" in html
    assert html.count(">Sign…</a>") == 1  # the referendum; congresses are demanded by councils' decisions
    assert f"?kind=convocation&amp;federation={federation.slug}" in html


def test_forms_open_a_petition_and_a_federation_proposal(scene, members_of):
    federation, bakery, farm, *_ = scene
    delegate, member = members_of(bakery)[0], members_of(bakery)[1]
    assert client_for(member).get(f"/c/{federation.slug}/petitions/new/").status_code == 200
    response = client_for(member).post(f"/c/{federation.slug}/petitions/new/", {"kind": "convocation", "title": "A congress"})
    assert response.status_code == 302
    assert federation.petitions.get().title == "A congress"
    assert client_for(delegate).get(f"/c/{federation.slug}/federation/proposals/new/").status_code == 200
    assert client_for(member).get(f"/c/{federation.slug}/federation/proposals/new/").status_code == 302
    response = client_for(delegate).post(f"/c/{federation.slug}/federation/proposals/new/", {
        "kind": "federation_motion", "title": "Bread price", "matter": "bread", "decision_method": "majority"})
    assert response.status_code == 302
    created = Proposal.objects.get(council=federation, title="Bread price")
    assert created.mandates.count() == 3
    refused = client_for(delegate).post(f"/c/{federation.slug}/federation/proposals/new/", {
        "kind": "federation_motion", "title": "Opening hours", "matter": "", "decision_method": "majority"})
    assert refused.status_code == 200 and "competences" in refused.content.decode()


def test_proposal_form_backs_a_petition_and_elects_delegates(scene, members_of):
    federation, bakery, farm, *_ = scene
    member = members_of(farm)[1]
    petition = petitions.open_petition(member, federation, kind="convocation", title="A congress")
    page = client_for(member).get(f"/c/{farm.slug}/proposals/new/?kind=convocation&federation={federation.slug}&petition={petition.pk}")
    assert page.status_code == 200
    response = client_for(member).post(f"/c/{farm.slug}/proposals/new/", {
        "kind": "convocation", "title": "We back the congress", "decision_method": "majority", "seats": 1, "max_score": 5,
        "deliberation_ends": "2030-06-01T10:00:00", "voting_ends": "2030-06-03T10:00:00", "federation": federation.slug,
        "petition": petition.pk})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Proposal.objects.get(council=farm, kind="convocation").petition == petition
    response = client_for(member).post(f"/c/{farm.slug}/proposals/new/", {
        "kind": "delegate_election", "title": "New delegate", "decision_method": "majority", "seats": 1, "max_score": 5,
        "deliberation_ends": "2030-06-01T10:00:00", "voting_ends": "2030-06-03T10:00:00", "federation": federation.slug,
        "candidates": [member.username]})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Proposal.objects.get(council=farm, kind="delegate_election", title="New delegate").options.get().member == member


def test_mandate_page_links_the_federation_proposal_and_its_carrier(scene, members_of):
    federation, bakery, farm, street, proposal = scene
    mandate = Proposal.objects.get(council=farm, mandate_for=proposal)
    html = client_for(members_of(farm)[1]).get(mandate.get_absolute_url()).content.decode()
    assert proposal.get_absolute_url() in html and members_of(farm)[0].username in html
    fed_html = client_for().get(proposal.get_absolute_url()).content.decode()
    assert "In the federation" in fed_html and bakery.name in fed_html


def test_free_mandate_delegate_votes_from_the_proposal_page(scene, make_council, join_federation, elect_delegates, members_of, clock):
    federation, bakery, *_ = scene
    free = make_council(members=2, mandate="free")
    join_federation(free, federation)
    elect_delegates(free, federation, [members_of(free)[0]])
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Bread price", matter="bread")
    html = client_for(members_of(free)[0]).get(proposal.get_absolute_url()).content.decode()
    assert "free mandate" in html
    client_for(members_of(free)[0]).post(f"/c/{federation.slug}/p/{proposal.pk}/free-vote/", {"choice": "no"})
    ballot = FederationBallot.objects.get(proposal=proposal, council=free)
    assert ballot.no == 1 and not ballot.mandated
    assert "free mandate" in client_for().get(free.get_absolute_url()).content.decode()
