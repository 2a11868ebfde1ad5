"""The authorisation matrix: every action, through the API and the pages, for anonymous, non-member and member.

A refusal must change nothing: the record's length is checked before and after.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "non_member", "member"]


@pytest.fixture
def world(clock, make_council, make_user, members_of, make_proposal):
    council = make_council(members=1)
    member = members_of(council)[1]
    voting = make_proposal(council, deliberation=timedelta(0), title="Open vote")
    return {"council": council, "member": member, "outsider": make_user(), "proposal": voting}


def api_client(world, role):
    if role == "anonymous":
        return Client()
    user = world["member"] if role == "member" else world["outsider"]
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'matrix')[1]}")


def page_client(world, role):
    client = Client()
    if role != "anonymous":
        client.force_login(world["member"] if role == "member" else world["outsider"])
    return client


API_ACTIONS = {
    # action: (method, url template, payload, {role: expected status})
    "found a council": ("post", "/api/councils", {"name": "New", "kind": "other"}, {"anonymous": 401, "non_member": 201, "member": 201}),
    "join": ("post", "/api/councils/{slug}/join", {}, {"anonymous": 401, "non_member": 201, "member": 409}),
    "leave": ("post", "/api/councils/{slug}/leave", {}, {"anonymous": 401, "non_member": 403, "member": 200}),
    "propose": ("post", "/api/councils/{slug}/proposals", {"title": "T"}, {"anonymous": 401, "non_member": 403, "member": 201}),
    "comment": ("post", "/api/proposals/{pid}/comments", {"body": "B"}, {"anonymous": 401, "non_member": 403, "member": 201}),
    "vote": ("put", "/api/proposals/{pid}/ballot", {"choice": "yes"}, {"anonymous": 401, "non_member": 403, "member": 200}),
    "read my ballot": ("get", "/api/proposals/{pid}/ballot", None, {"anonymous": 401, "non_member": 404, "member": 404}),
    "who am I": ("get", "/api/me", None, {"anonymous": 401, "non_member": 200, "member": 200}),
    "read the council": ("get", "/api/councils/{slug}", None, {"anonymous": 200, "non_member": 200, "member": 200}),
    "read members": ("get", "/api/councils/{slug}/members", None, {"anonymous": 200, "non_member": 200, "member": 200}),
    "read proposals": ("get", "/api/councils/{slug}/proposals", None, {"anonymous": 200, "non_member": 200, "member": 200}),
    "read a proposal": ("get", "/api/proposals/{pid}", None, {"anonymous": 200, "non_member": 200, "member": 200}),
    "read the ballots": ("get", "/api/proposals/{pid}/ballots", None, {"anonymous": 200, "non_member": 200, "member": 200}),
    "read the record": ("get", "/api/councils/{slug}/record", None, {"anonymous": 200, "non_member": 200, "member": 200}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(API_ACTIONS))
def test_api_matrix(world, role, action):
    method, url, payload, expected = API_ACTIONS[action]
    url = url.format(slug=world["council"].slug, pid=world["proposal"].pk)
    client = api_client(world, role)
    before = RecordEntry.objects.count()
    kwargs = {"data": json.dumps(payload), "content_type": "application/json"} if payload is not None else {}
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == expected[role], response.content
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        assert "detail" in response.json()
        assert RecordEntry.objects.count() == before  # a refusal writes nothing


PAGE_ACTIONS = {
    "join": ("council-join", {}, {"anonymous": "login", "non_member": "done", "member": "refused"}),
    "leave": ("council-leave", {}, {"anonymous": "login", "non_member": "refused", "member": "done"}),
    "propose": ("proposal-create", {"title": "T", "kind": "motion", "body": "", "deliberation_ends": "2030-03-02T10:00:00",
                                    "voting_ends": "2030-03-02T12:00:00"}, {"anonymous": "login", "non_member": "refused", "member": "done"}),
    "vote": ("proposal-vote", {"choice": "yes"}, {"anonymous": "login", "non_member": "refused", "member": "done"}),
    "comment": ("proposal-comment", {"body": "hello"}, {"anonymous": "login", "non_member": "refused", "member": "done"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(PAGE_ACTIONS))
def test_page_matrix(world, role, action):
    from django.urls import reverse

    name, data, expected = PAGE_ACTIONS[action]
    args = [world["council"].slug] + ([world["proposal"].pk] if name.startswith("proposal-") and name != "proposal-create" else [])
    client = page_client(world, role)
    before = RecordEntry.objects.count()
    response = client.post(reverse(name, args=args), data, follow=True)
    outcome = expected[role]
    if outcome == "login":
        assert response.redirect_chain[0][0].startswith("/login/")
        assert RecordEntry.objects.count() == before
    elif outcome == "refused":
        assert RecordEntry.objects.count() == before
        text = response.content.decode()
        assert "Only members" in text or "already" in text
    else:
        assert RecordEntry.objects.count() > before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["home", "council-list", "council", "council-record", "proposal"])
def test_every_page_is_readable_by_everyone(world, role, page):
    from django.urls import reverse

    args = {"council": [world["council"].slug], "council-record": [world["council"].slug],
            "proposal": [world["council"].slug, world["proposal"].pk]}.get(page, [])
    assert page_client(world, role).get(reverse(page, args=args)).status_code == 200


@pytest.mark.parametrize("page", ["profile", "council-create", "proposal-create"])
def test_private_pages_send_anonymous_to_log_in(world, page):
    from django.urls import reverse

    args = [world["council"].slug] if page == "proposal-create" else []
    response = Client().get(reverse(page, args=args))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
