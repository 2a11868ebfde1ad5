"""Issue 13, items 6 and 9: NUL and other control characters get a 4xx on both databases, never a 500; API bodies
over the limit get JSON; every 429 says when to come back."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from councils.accounts.services import create_token
from councils.assemblies.models import Council
from councils.decisions.models import Comment, Proposal
from councils.decisions.services import add_comment, create_proposal
from councils.errors import Invalid

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clock, make_council, members_of):
    council = make_council(members=2)
    member = members_of(council)[0]
    proposal = create_proposal(member, council, title="Plain")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(member, 'tests')[1]}")
    return council, member, proposal, client


@pytest.mark.parametrize("url", ["/api/councils/a%00b", "/api/federations/a%00/plan-periods", "/api/councils/a%01b",
                                 "/api/councils?x=%00", "/c/a%00b/"])
def test_control_characters_in_addresses_are_refused_with_400(world, url):
    response = Client().get(url)
    assert response.status_code == 400, response.content
    if url.startswith("/api/"):
        assert "control character" in response.json()["detail"]


def test_a_nul_in_a_receipt_query_is_refused(world):
    _, _, proposal, _ = world
    assert Client().get(proposal.get_absolute_url() + "?receipt=%00").status_code == 400


@pytest.mark.parametrize("payload", [{"title": "a\x00b"}, {"title": "ok", "body": "x\x00y"}, {"title": "bell\x07"},
                                     {"title": "ok", "options": ["a\x00", "b"], "decision_method": "approval"}])
def test_control_characters_in_api_bodies_are_refused(world, payload):
    council, _, _, client = world
    response = client.post(f"/api/councils/{council.slug}/proposals", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] in ("title", "body", "options")
    assert not Proposal.objects.filter(title__startswith="a").exists()


def test_line_breaks_and_tabs_are_ordinary_text(world):
    council, _, _, client = world
    response = client.post(f"/api/councils/{council.slug}/proposals", content_type="application/json",
                           data=json.dumps({"title": "Two lines", "body": "one\r\n\ttwo"}))
    assert response.status_code == 201, response.content


def test_a_nul_in_a_comment_form_is_refused(world):
    council, member, proposal, _ = world
    client = Client()
    client.force_login(member)
    response = client.post(f"/c/{council.slug}/p/{proposal.pk}/comment/", {"body": "a\x00b"})
    assert response.status_code == 400 and not Comment.objects.exists()


def test_the_services_refuse_control_characters_too(world, make_user):
    council, member, proposal, _ = world
    with pytest.raises(Invalid) as refused:
        create_proposal(member, council, title="x\x00")
    assert refused.value.field == "title"
    with pytest.raises(Invalid):
        add_comment(member, proposal, "\x00")
    from councils.assemblies.services import create_council
    with pytest.raises(Invalid) as refused:
        create_council(make_user(), name="Bad\x00name", kind="workplace")
    assert refused.value.field == "name" and not Council.objects.filter(name__startswith="Bad").exists()


def test_an_api_body_over_the_limit_gets_json_413(world, settings):
    council, _, _, client = world
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(f"/api/councils/{council.slug}/proposals", content_type="application/json",
                           data=json.dumps({"title": "big", "body": "x" * 5000}))
    assert response.status_code == 413 and response["Content-Type"].startswith("application/json")
    assert "limit" in response.json()["detail"]


@pytest.fixture
def low_rates(settings):
    cache.clear()
    settings.COUNCILS_API_RATES = {"member": "3/min", "anonymous": "3/min"}
    yield
    cache.clear()


def test_every_api_429_says_when_to_retry(low_rates):
    anonymous = [Client().get("/api/councils") for _ in range(5)]
    guessing = [Client(HTTP_AUTHORIZATION="Bearer cnc_wrong").get("/api/me") for _ in range(5)]
    for refused in (anonymous[-1], guessing[-1]):
        assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1


def test_the_login_lock_out_says_when_to_retry(make_user, settings):
    cache.clear()
    user = make_user()
    client = Client()
    answers = [client.post("/login/", {"username": user.username, "password": "wrong"}) for _ in range(settings.AXES_FAILURE_LIMIT + 1)]
    assert answers[-1].status_code == 429
    assert int(answers[-1]["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)
