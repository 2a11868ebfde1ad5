import json
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.decisions.models import Ballot

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as(make_user):
    """A client that sends a personal token."""

    def make(user=None):
        user = user or make_user()
        _, raw = create_token(user, "tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), user

    return make


def post(client, url, payload, method="post"):
    return getattr(client, method)(url, data=json.dumps(payload), content_type="application/json")


def test_openapi_document_lists_the_actions(client):
    doc = client.get("/api/openapi.json").json()
    paths = doc["paths"]
    for path in ["/api/councils", "/api/councils/{slug}/join", "/api/councils/{slug}/proposals",
                 "/api/proposals/{proposal_id}/ballot", "/api/proposals/{proposal_id}/result", "/api/councils/{slug}/record"]:
        assert path in paths
    assert client.get("/api/docs").status_code == 200


def test_found_join_propose_vote_and_read_the_result(clock, api_as):
    ana_client, ana = api_as()
    bea_client, bea = api_as()
    response = post(ana_client, "/api/councils", {"name": "Print Shop", "kind": "workplace", "charter": {
        "voting_hours": 2, "deliberation_hours": 1, "min_deliberation_hours": 0, "min_voting_hours": 0}})
    assert response.status_code == 201, response.content
    slug = response.json()["slug"]
    assert post(bea_client, f"/api/councils/{slug}/join", {}).json() == {"status": "member", "proposal_id": None}
    response = post(ana_client, f"/api/councils/{slug}/proposals", {"title": "New press", "body": "Buy it."})
    assert response.status_code == 201
    proposal = response.json()
    assert proposal["state"] == "deliberation" and proposal["result"] is None
    pid = proposal["id"]
    response = post(ana_client, f"/api/proposals/{pid}/ballot", {"choice": "yes"}, "put")
    assert response.status_code == 409 and "Voting opens" in response.json()["detail"]
    clock.advance(hours=1)
    assert post(ana_client, f"/api/proposals/{pid}/ballot", {"choice": "no"}, "put").status_code == 200
    assert post(ana_client, f"/api/proposals/{pid}/ballot", {"choice": "yes"}, "put").json()["choice"] == "yes"
    assert post(bea_client, f"/api/proposals/{pid}/ballot", {"choice": "yes"}, "put").status_code == 200
    assert ana_client.get(f"/api/proposals/{pid}/ballot").json()["choice"] == "yes"
    assert ana_client.get(f"/api/proposals/{pid}/result").status_code == 409
    clock.advance(hours=2)
    result = ana_client.get(f"/api/proposals/{pid}/result").json()
    assert (result["outcome"], result["yes"], result["members"]) == ("adopted", 2, 2)
    entries = ana_client.get(f"/api/councils/{slug}/record").json()
    assert entries[0]["kind"] == "council.founded" and entries[-1]["kind"] == "decision.made"
    assert ana_client.get(f"/api/councils/{slug}/record/verify").json()["ok"] is True


def test_errors_are_json_with_a_message(clock, api_as, make_council):
    client, user = api_as()
    council = make_council(user)
    response = post(client, f"/api/councils/{council.slug}/proposals", {"title": ""})
    assert response.status_code == 422 and response.json() == {"detail": "a proposal needs a title", "field": "title"}
    response = post(client, f"/api/councils/{council.slug}/proposals", {"body": "no title"})
    assert response.status_code == 422 and "title" in json.dumps(response.json()["detail"])
    response = client.post(f"/api/councils/{council.slug}/proposals", data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500 and "detail" in response.json()
    response = post(client, "/api/proposals/999999/ballot", {"choice": "yes"}, "put")
    assert response.status_code == 404 and "detail" in response.json()
    response = post(client, "/api/councils", {"name": "X", "kind": "ministry"})
    assert response.status_code == 422
    response = post(client, f"/api/councils/{council.slug}/proposals", {"title": "T", "voting_ends": "2030-01-01T00:00:00"})
    assert response.status_code == 422  # a deadline without a time zone


def test_bad_ballot_choice_is_422(clock, api_as, make_council, make_proposal):
    client, user = api_as()
    council = make_council(user)
    proposal = make_proposal(council, user, deliberation=timedelta(0))
    response = post(client, f"/api/proposals/{proposal.pk}/ballot", {"choice": "maybe"}, "put")
    assert response.status_code == 422
    assert not Ballot.objects.exists()


def test_revoked_or_wrong_tokens_are_refused(clock, make_user):
    from councils.accounts.services import revoke_token

    user = make_user()
    token, raw = create_token(user, "phone")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/me").status_code == 200
    revoke_token(user, token.pk)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/me").status_code == 401
    response = Client(HTTP_AUTHORIZATION="Bearer cnc_forged").get("/api/me")
    assert response.status_code == 401 and "token" in response.json()["detail"]


def test_tokens_cannot_mint_tokens(clock, api_as):
    client, _ = api_as()
    response = post(client, "/api/me/tokens", {"name": "more"})
    assert response.status_code == 403 and "cannot manage tokens" in response.json()["detail"]


def test_session_api_calls_need_csrf(clock, make_user, make_council):
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, "/api/councils", {"name": "Via session", "kind": "other"})
    assert response.status_code in (401, 403)


def test_token_is_stored_only_as_a_digest(clock, make_user):
    from councils.accounts.models import ApiToken

    token, raw = create_token(make_user(), "x")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.digest, stored.prefix) and stored.digest == ApiToken.digest_of(raw)
