"""The federation through the API: round trips, and every refusal as a JSON body with a detail."""

from datetime import timedelta

import pytest
from django.test import Client

from councils.decisions.models import Proposal
from councils.decisions.services import settle_due
from councils.federation import petitions
from councils.federation.models import FederationBallot
from councils.federation.services import current_delegates

pytestmark = pytest.mark.django_db


def api(user=None):
    """A client speaking JSON with ``user``'s personal token (or none)."""
    from councils.accounts.services import create_token

    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {create_token(user, 'tests')[1]}"
    client = Client(**headers)

    def call(method, path, body=None):
        if method == "get":
            return client.get(f"/api{path}")
        return client.post(f"/api{path}", body or {}, content_type="application/json")

    return call


@pytest.fixture
def fed(clock, federation_of, members_of):
    return federation_of([3, 3, 4], charter={"competences": ["bread", "transport"], "weighting": "members"})


def test_federation_tree_with_members_delegates_and_weights(fed, members_of):
    federation, councils = fed
    body = api()("get", f"/federations/{federation.slug}").json()
    assert body["competences"] == ["bread", "transport"] and body["weighting"] == "members"
    tree = body["tree"]
    assert tree["slug"] == federation.slug and tree["members"] == 10
    by_slug = {c["slug"]: c for c in tree["councils"]}
    for council in councils:
        node = by_slug[council.slug]
        assert node["delegates"] == [members_of(council)[0].username]
        assert node["weight"] == node["members"] == len(members_of(council))
    assert api()("get", f"/federations/{councils[0].slug}").status_code == 404


def test_federation_proposal_round_trip_and_ballots(fed, members_of, clock, decide):
    federation, (bakery, farm, street) = fed
    delegate = members_of(bakery)[0]
    response = api(delegate)("post", f"/federations/{federation.slug}/proposals",
                             {"title": "Shared van", "matter": "transport"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["progress"] == {"cast": 0, "councils": 3, "mandates_open": 3}
    proposal = Proposal.objects.get(pk=created["id"])
    decide(Proposal.objects.get(council=bakery, mandate_for=proposal), "yes", close=False)
    clock.set(proposal.deliberation_ends + timedelta(seconds=1))
    settle_due(None)
    listed = api()("get", f"/federations/{federation.slug}/proposals").json()
    assert [p["id"] for p in listed] == [proposal.pk] and listed[0]["progress"]["cast"] == 3
    ballots = {b["council"]: b for b in api()("get", f"/proposals/{proposal.pk}/federation-ballots").json()}
    assert ballots[bakery.slug]["yes"] == 3 and ballots[bakery.slug]["mandated"]
    assert ballots[bakery.slug]["delegate"] == delegate.username and ballots[bakery.slug]["mandate_proposal"]


def test_proposal_refusals(fed, members_of):
    federation, (bakery, *_) = fed
    path = f"/federations/{federation.slug}/proposals"
    anonymous = api()("post", path, {"title": "T", "matter": "bread"})
    assert anonymous.status_code == 401 and anonymous.json()["detail"]
    member = api(members_of(bakery)[1])("post", path, {"title": "T", "matter": "bread"})
    assert member.status_code == 403 and "delegates" in member.json()["detail"]
    outside = api(members_of(bakery)[0])("post", path, {"title": "T", "matter": "members' wages"})
    assert outside.status_code == 422 and outside.json()["field"] == "matter"
    schema = api(members_of(bakery)[0])("post", path, {"title": "T", "decision_method": "dictator"})
    assert schema.status_code == 422 and schema.json()["detail"]


def test_free_vote_through_the_api(fed, members_of, make_council, join_federation, elect_delegates):
    federation, (bakery, *_) = fed
    free = make_council(members=2, mandate="free")
    join_federation(free, federation)
    elect_delegates(free, federation, [members_of(free)[0]])
    proposal = api(members_of(bakery)[0])("post", f"/federations/{federation.slug}/proposals",
                                          {"title": "Bread price", "matter": "bread"}).json()
    bound = api(members_of(bakery)[0])("post", f"/proposals/{proposal['id']}/free-vote", {"choice": "no"})
    assert bound.status_code == 403 and bound.json()["detail"]
    cast = api(members_of(free)[0])("post", f"/proposals/{proposal['id']}/free-vote", {"choice": "no"})
    assert cast.status_code == 200 and cast.json()["no"] == 3 and not cast.json()["mandated"]
    assert api(members_of(free)[0])("post", f"/proposals/{proposal['id']}/free-vote", {}).status_code == 422
    assert FederationBallot.objects.get(council=free).delegate == members_of(free)[0]


def test_delegates_and_recall_round_trip(fed, members_of):
    federation, (bakery, farm, street) = fed
    listed = api()("get", f"/federations/{federation.slug}/delegates").json()
    assert {d["member"] for d in listed} == {members_of(c)[0].username for c in (bakery, farm, street)}
    delegate = current_delegates(street, federation).get()
    detail = api()("get", f"/delegates/{delegate.pk}").json()
    assert detail["council"] == street.slug and detail["active"] and detail["ballots"] == [] and detail["recall_petitions"] == []
    assert api()("post", f"/delegates/{delegate.pk}/recall").status_code == 401
    outsider = api(members_of(bakery)[1])("post", f"/delegates/{delegate.pk}/recall")
    assert outsider.status_code == 403 and outsider.json()["detail"]
    opened = api(members_of(street)[1])("post", f"/delegates/{delegate.pk}/recall", {"reason": "Ignored our mandate."})
    assert opened.status_code == 201 and opened.json()["signatures"] == 1 and opened.json()["needed"] == 1
    assert opened.json()["reason"] == "Ignored our mandate."
    again = api(members_of(street)[2])("post", f"/recall-petitions/{opened.json()['id']}/sign")
    assert again.status_code == 409 and again.json()["detail"]  # the vote is already open: vote in it


def test_petitions_round_trip_with_progress(fed, members_of):
    federation, (bakery, farm, street) = fed
    member = members_of(farm)[1]
    created = api(member)("post", f"/federations/{federation.slug}/petitions", {"kind": "referendum", "title": "All decide"})
    assert created.status_code == 201
    progress = created.json()["progress"]
    assert progress["councils"] == 0 and progress["signatures"] == 0 and progress["members"] == 10
    signed = api(member)("post", f"/petitions/{created.json()['id']}/sign")
    assert signed.status_code == 200 and signed.json()["progress"]["signatures"] == 1
    listed = api()("get", f"/federations/{federation.slug}/petitions").json()
    assert listed[0]["id"] == created.json()["id"]
    convocation = petitions.open_petition(member, federation, kind="convocation", title="Congress")
    assert api(member)("post", f"/petitions/{convocation.pk}/sign").status_code == 422


def test_petition_refusals(fed, members_of, make_user):
    federation, _ = fed
    path = f"/federations/{federation.slug}/petitions"
    assert api()("post", path, {"kind": "convocation", "title": "C"}).status_code == 401
    outsider = api(make_user())("post", path, {"kind": "convocation", "title": "C"})
    assert outsider.status_code == 403 and outsider.json()["detail"]
    bad = api(members_of(fed[1][0])[1])("post", path, {"kind": "coup", "title": "C"})
    assert bad.status_code == 422 and bad.json()["detail"]
