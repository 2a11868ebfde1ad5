"""The authorisation matrix of the economy's write endpoints.

A council's capabilities, hours and needs list answer only to its own members; how it answers the
planning rounds, and its hand proposal, only to its elected planning delegate; catalogue changes and
plan periods are put to the federation only by a delegate of a member council. Everyone else is
refused: anonymous (401), a member of a council outside the federation, members and delegates of the
federation's other councils (including their planning delegates), the person who founded the
federation (a federation cannot change a workplace's capabilities), and, for the planning acts, the
council's own members and its delegate to the federation. A refusal is JSON with a detail and changes
nothing: not the record, not a row.
"""
import json

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.decisions.models import Proposal
from councils.economy.models import Capability, DraftNeed, HandProposal, PlanningMode, Product, WorkingHours
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member_of_another_council", "federation_founder", "member_of_a_sister_council",
         "delegate_of_a_sister_council", "planning_delegate_of_a_sister_council", "own_member", "own_delegate",
         "own_planning_delegate"]
MEMBERS = {"own_member", "own_delegate", "own_planning_delegate"}
DELEGATES = {"own_delegate", "delegate_of_a_sister_council"}
PLANNING_DELEGATE = {"own_planning_delegate"}

# action: (method, path, body, the council acted on (or its sister's kind), who may, status when allowed)
ACTIONS = {
    "record a capability": ("put", "/councils/{mill}/capabilities/{flour}", {"labour": 0.2, "capacity": 900}, "mill", MEMBERS, 200),
    "remove a capability": ("delete", "/councils/{mill}/capabilities/{flour}", None, "mill", MEMBERS, 204),
    "import capabilities": ("post", "/councils/{mill}/capabilities/import",
                            {"format": "csv", "content": "product,labour,capacity\nflour,0.2,900\n"}, "mill", MEMBERS, 200),
    "record working hours": ("put", "/councils/{mill}/working-hours", {"hours": 90}, "mill", MEMBERS, 200),
    "set a needs line": ("put", "/councils/{north}/needs/draft/{bread}", {"quantity": 170}, "north", MEMBERS, 200),
    "remove a needs line": ("delete", "/councils/{north}/needs/draft/{bread}", None, "north", MEMBERS, 204),
    "put the needs list to the vote": ("post", "/councils/{north}/needs/proposals", {}, "north", MEMBERS, 201),
    "propose a catalogue change": ("post", "/federations/{federation}/catalogue/proposals",
                                   {"add": [{"name": "oats", "unit": "kg"}]}, "mill", DELEGATES, 201),
    "propose a plan period": ("post", "/federations/{federation}/plan-periods", {"title": "Summer"}, "mill", DELEGATES, 201),
    "choose the planning mode": ("put", "/councils/{mill}/plan-periods/{period}/mode", {"by_hand": False}, "mill",
                                 PLANNING_DELEGATE, 200),
    "revise the hand proposal": ("put", "/councils/{mill}/plan-periods/{period}/hand-proposal", "hand", "mill",
                                 PLANNING_DELEGATE, 200),
    "choose a neighbourhood's planning mode": ("put", "/councils/{north}/plan-periods/{period}/mode", {"by_hand": True},
                                               "north", PLANNING_DELEGATE, 200),
}
NEEDS_PERIOD = {"choose the planning mode", "revise the hand proposal", "choose a neighbourhood's planning mode"}
SISTER = {"mill": "bakery", "north": "south"}


@pytest.fixture
def scene(clock, economy_world, make_council, members_of, decide):
    """The economy world, each council with an elected planning delegate (its third member; its first is its
    delegate to the federation, its second an ordinary member), and a council outside the federation."""
    from datetime import timedelta

    from councils.decisions.services import create_proposal

    world = economy_world
    for council in world.councils:
        planner = members_of(council)[2]
        now = clock.now()
        election = create_proposal(members_of(council)[0], council, kind="election", office="planning_delegate",
                                   title="Our planning delegate", options=[{"member": planner.username}],
                                   decision_method="irv", deliberation_ends=now, voting_ends=now + timedelta(hours=1))
        assert decide(election, {"ranking": [election.options.get().pk]}).outcome == "decided"
    world.outsider = members_of(make_council(members=1, kind="workplace"))[1]
    return world


def founder_of(federation):
    assert federation.created_by is not None
    return federation.created_by


@pytest.fixture
def period_open(scene, open_period, work, members_of):
    """A plan period whose first round is published, the mill answering by hand, its revision window open."""
    from councils.economy import services

    period = open_period()
    services.set_planning_mode(members_of(scene.mill)[2], period, scene.mill, by_hand=True)
    work()
    period.refresh_from_db()
    assert period.round_ends is not None and period.status == "rounds", period.status_reason
    return period


def actor(world, role, target, members_of):
    council = getattr(world, target)
    sister = getattr(world, SISTER[target])
    return {
        "anonymous": None, "member_of_another_council": world.outsider, "federation_founder": founder_of(world.federation),
        "member_of_a_sister_council": members_of(sister)[1], "delegate_of_a_sister_council": members_of(sister)[0],
        "planning_delegate_of_a_sister_council": members_of(sister)[2], "own_member": members_of(council)[1],
        "own_delegate": members_of(council)[0], "own_planning_delegate": members_of(council)[2],
    }[role]


def snapshot():
    return (RecordEntry.objects.count(), Proposal.objects.count(),
            sorted(Capability.objects.values_list("council_id", "product_id", "labour", "capacity", "inputs_json")),
            sorted(WorkingHours.objects.values_list("council_id", "hours")),
            sorted(DraftNeed.objects.values_list("council_id", "product_id", "quantity", "priority")),
            sorted(Product.objects.values_list("pk", "name", "retired_at")),
            sorted(PlanningMode.objects.values_list("council_id", "by_hand")), HandProposal.objects.count())


def _call(client, method, url, body):
    if method == "delete":
        return client.delete(url)
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _request(request, world, action):
    method, path, body, target, allowed, status = ACTIONS[action]
    period = request.getfixturevalue("period_open") if action in NEEDS_PERIOD else None
    if body == "hand":
        body = {"quantities": {str(Capability.objects.get(council=world.mill).pk): 300}}
    url = "/api" + path.format(mill=world.mill.slug, north=world.north.slug, federation=world.federation.slug,
                               flour=world.flour.pk, bread=world.bread.pk, period=period.pk if period else 0)
    return method, url, body


def _client(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'matrix')[1]}") if user else Client()


@pytest.mark.parametrize("action", list(ACTIONS))
def test_everyone_else_is_refused_and_nothing_changes(request, scene, members_of, action):
    from councils.decisions.services import settle_due

    method, url, body = _request(request, scene, action)
    _, _, _, target, allowed, _ = ACTIONS[action]
    settle_due(None)  # votes closed in the set-up are settled now, not by a request under test
    before = snapshot()
    refused = [role for role in ROLES if role not in allowed]
    for role in refused:
        response = _call(_client(actor(scene, role, target, members_of)), method, url, body)
        expected = 401 if role == "anonymous" else 403
        assert response.status_code == expected, (role, action, response.content[:300])
        assert response["Content-Type"].startswith("application/json") and response.json()["detail"]
        assert snapshot() == before, (role, action)
    assert len(refused) >= 6


@pytest.mark.parametrize("action, role", [(action, role) for action, spec in ACTIONS.items() for role in ROLES
                                          if role in spec[4]])
def test_the_allowed_actor_may(request, scene, members_of, action, role):
    method, url, body = _request(request, scene, action)
    _, _, _, target, _, status = ACTIONS[action]
    before = RecordEntry.objects.count()
    response = _call(_client(actor(scene, role, target, members_of)), method, url, body)
    assert response.status_code == status, (role, action, response.content[:300])
    assert RecordEntry.objects.count() > before


def test_every_economy_write_endpoint_is_in_the_matrix():
    from councils.api import api

    schema = api.get_openapi_schema()
    economy = {(method, path) for path, operations in schema["paths"].items() for method, operation in operations.items()
               if method in ("post", "put", "patch", "delete") and "economy" in operation.get("tags", [])}
    covered = {(method, "/api" + path.replace("{mill}", "{slug}").replace("{north}", "{slug}")
                .replace("{federation}", "{slug}").replace("{flour}", "{product_id}").replace("{bread}", "{product_id}")
                .replace("{period}", "{period_id}")) for method, path, *_ in ACTIONS.values()}
    assert economy and economy <= covered, economy - covered


def test_a_federation_cannot_change_a_workplaces_capabilities(scene, members_of):
    world = scene
    before = snapshot()
    for user in (founder_of(world.federation), members_of(world.bakery)[0], members_of(world.north)[0]):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'matrix')[1]}")
        for method, path, body in [
            ("put", f"/api/councils/{world.mill.slug}/capabilities/{world.flour.pk}", {"labour": 9, "capacity": 1}),
            ("delete", f"/api/councils/{world.mill.slug}/capabilities/{world.flour.pk}", None),
            ("post", f"/api/councils/{world.mill.slug}/capabilities/import", {"format": "csv", "content": "product,labour,capacity\nflour,9,1\n"}),
            ("put", f"/api/councils/{world.mill.slug}/working-hours", {"hours": 1}),
        ]:
            response = client.delete(path) if method == "delete" else getattr(client, method)(
                path, json.dumps(body), content_type="application/json")
            assert response.status_code == 403 and response.json()["detail"], (user, path)
    assert snapshot() == before


def test_a_council_cannot_edit_another_councils_hand_proposal_or_needs(scene, period_open, members_of):
    world = scene
    before = snapshot()
    key = str(Capability.objects.get(council=world.mill).pk)
    for user in (members_of(world.bakery)[2], members_of(world.north)[2]):  # other councils' planning delegates
        client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'matrix')[1]}")
        response = client.put(f"/api/councils/{world.mill.slug}/plan-periods/{period_open.pk}/hand-proposal",
                              json.dumps({"quantities": {key: 1}}), content_type="application/json")
        assert response.status_code == 403 and response.json()["detail"]
        response = client.put(f"/api/councils/{world.mill.slug}/plan-periods/{period_open.pk}/mode",
                              json.dumps({"by_hand": False}), content_type="application/json")
        assert response.status_code == 403
    south = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(members_of(world.south)[1], 'matrix')[1]}")
    for method, path, body in [("put", f"/api/councils/{world.north.slug}/needs/draft/{world.bread.pk}", {"quantity": 1}),
                               ("delete", f"/api/councils/{world.north.slug}/needs/draft/{world.bread.pk}", None),
                               ("post", f"/api/councils/{world.north.slug}/needs/proposals", {})]:
        response = south.delete(path) if method == "delete" else getattr(south, method)(
            path, json.dumps(body), content_type="application/json")
        assert response.status_code == 403 and response.json()["detail"], path
    assert snapshot() == before
