"""No route changes what only the members' own acts may change.

Instead of looking for functions with telling names, these tests try every route there is (every page and API
URL the application answers, with every writing method, and every public service function of the apps that hold
proposals, ballots, decisions and congresses) as each role, and check that nothing a member decided has changed:
a proposal's text and options, other members' ballots, a decision, a congress's dates.
"""

import inspect
import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from councils.accounts.services import create_token
from councils.errors import CouncilsError

pytestmark = pytest.mark.django_db

PAYLOAD = {"title": "Rewritten", "body": "Rewritten", "choice": "no", "outcome": "rejected", "reason": "because",
           "passage": "wood", "replacement": "gas", "minutes": "Rewritten", "starts_at": "2031-01-01T00:00:00Z",
           "deliberation_ends": "2030-03-20T09:00:00Z", "voting_ends": "2030-03-25T09:00:00Z", "ranking": [[1]],
           "winners": ["x"], "text": "Rewritten", "kind": "cancel_congress"}


def every_route() -> list[str]:
    """Every URL pattern the application answers, as a template with ``{name}`` for each path parameter."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append(route)

    walk(get_resolver().url_patterns, "/")
    routes = []
    for route in sorted(set(found)):
        route = route.lstrip("^").replace("$", "").replace("\\Z", "")
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        if "(" in route or "static" in route:
            continue
        routes.append(route if route.startswith("/") else "/" + route)
    return routes


def fill(route: str, values: dict) -> list[str]:
    """The route with its parameters set to the objects under test (every integer parameter tried with each id)."""
    names = re.findall(r"{(\w+)}", route)
    urls = [route]
    for name in names:
        options = values.get(name) or values["_ids"]
        urls = [u.replace("{" + name + "}", str(v), 1) for u in urls for v in options]
    return urls


def clients(role, users):
    if role == "anonymous":
        return [Client(), Client()]
    user = users[role]
    page = Client()
    page.force_login(user)
    return [page, Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 'every route')[1]}")]


def try_every_route(role, users, values):
    """Pages take their forms by POST; the API is tried with every writing method, with a JSON body."""
    page, api = clients(role, users)
    for route in every_route():
        if "logout" in route or route.endswith("/leave/") or route.endswith("/leave"):
            continue  # leaving changes nothing of the council's decisions, but ends the role under test
        for url in fill(route, values):
            if url.startswith("/api/"):
                for method in ("post", "put", "patch", "delete"):
                    getattr(api, method)(url, json.dumps(PAYLOAD), content_type="application/json")
            else:
                page.post(url, PAYLOAD)


def try_every_service(actor, targets):
    """Call every public service function of these modules with ``actor`` and each object under test."""
    from councils.decisions import services as decisions
    from councils.federation import congress, petitions
    from councils.federation import services as federation

    for module in (decisions, federation, congress, petitions):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_") or name.startswith("settle"):
                continue
            parameters = list(inspect.signature(function).parameters.values())
            if not parameters or parameters[0].name != "actor" or len(parameters) < 2:
                continue
            for target in targets:
                kwargs = {p.name: PAYLOAD.get(p.name, "Rewritten") for p in parameters[2:]
                          if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD}
                try:
                    function(actor, target, **kwargs)
                except (CouncilsError, TypeError, AttributeError, ValueError, KeyError):
                    pass


def snapshot(proposals, protected_voters, congresses=()):
    from councils.decisions.models import Ballot, Decision

    state = []
    for proposal in proposals:
        proposal.refresh_from_db()
        # Deadlines are left out: officers may move them while a proposal is in deliberation (their procedural power).
        state.append((proposal.title, proposal.body, proposal.passage, proposal.replacement, proposal.decision_method,
                      proposal.quorum, proposal.secret, [o.record_state() for o in proposal.options.all()]))
        state.append(sorted((b.voter_id, b.choice, b.content_json) for b in
                            Ballot.objects.filter(proposal=proposal, voter__in=protected_voters)))
        decision = Decision.objects.filter(proposal=proposal).first()
        state.append(decision.record_state() if decision else None)
    for congress in congresses:
        congress.refresh_from_db()
        state.append((congress.starts_at, congress.ends_at, congress.cancelled_at, congress.title))
    return state


@pytest.fixture
def council_world(clock, make_council, make_user, members_of, make_proposal):
    from councils.decisions.services import add_comment, cast_ballot, create_proposal, get_decision

    council = make_council(members=3)
    author, member, officer, voter = members_of(council)
    now = clock.now()
    election = create_proposal(author, council, title="Facilitator", kind="election", office="facilitator",
                               options=[{"member": officer.username}], deliberation_ends=now,
                               voting_ends=now + timedelta(minutes=5))
    for person in (author, member, officer, voter):
        cast_ballot(person, election, {"ranking": [election.options.get().pk]})
    closed = make_proposal(council, author, deliberation=timedelta(0), voting=timedelta(minutes=5), title="Decided",
                           body="Buy a wood oven.")
    for person, choice in ((author, "yes"), (voter, "yes"), (member, "no")):
        cast_ballot(person, closed, choice)
    clock.advance(minutes=10)
    get_decision(election)
    get_decision(closed)
    voting = make_proposal(council, author, deliberation=timedelta(0), voting=timedelta(days=2), title="Open vote",
                           body="Paint the van.")
    cast_ballot(voter, voting, "yes")
    deliberating = make_proposal(council, author, deliberation=timedelta(days=1), title="Discussed", body="Buy a van in May.")
    comment = add_comment(author, voting, "A remark.")
    users = {"member": member, "officer": officer, "non_member": make_user()}
    proposals = [closed, voting, deliberating, election]
    ids = sorted({p.pk for p in proposals} | {comment.pk, closed.decision.pk})
    values = {"slug": [council.slug], "_ids": ids, "fmt": ["csv"], "token_id": [1]}
    return {"council": council, "users": users, "proposals": proposals, "protected": [author, voter, member],
            "values": values, "comment": comment}


def test_every_route_finds_the_pages_and_the_api():
    routes = every_route()
    for known in ("/api/proposals/{proposal_id}/ballot", "/api/comments/{comment_id}/hide", "/c/{slug}/p/{pk}/vote/",
                  "/api/congresses/{congress_id}/minutes", "/c/{slug}/p/{pk}/schedule/"):
        assert known in routes


@pytest.mark.parametrize("role", ["anonymous", "non_member", "member", "officer"])
def test_no_route_lets_anyone_change_text_ballots_or_results(council_world, role):
    """Officers schedule and moderate, members propose, amend and vote on their own behalf: no page, API route or
    service changes a proposal's text or options, another member's ballot, or a decision."""
    world = council_world
    # Every ballot but the acting member's own (which they may cast while the vote is open) must stay as it is.
    world["protected"] = [p for p in world["protected"] if p != world["users"].get(role)]
    before = snapshot(world["proposals"], world["protected"])
    try_every_route(role, world["users"], world["values"])
    if role != "anonymous":
        try_every_service(world["users"][role], world["proposals"] + [world["comment"]])
    assert snapshot(world["proposals"], world["protected"]) == before


@pytest.mark.parametrize("role", ["delegate", "member", "founder"])
def test_no_route_cancels_or_postpones_a_convened_congress(clock, decide, federation_of, members_of, role):
    """Only the member councils, by a cancellation petition at the charter's share, cancel a congress: no page, API
    route or service lets a delegate, a member or the federation's founder cancel or move it."""
    from councils.federation.models import Congress
    from councils.federation.petitions import open_petition
    from councils.decisions.services import create_proposal

    federation, councils = federation_of([2, 2], charter={"competences": ["bread"], "convocation_share": "0.5"})
    petition = open_petition(members_of(councils[0])[1], federation, kind="convocation", title="Congress")
    author = members_of(councils[0])[0]
    demand = create_proposal(author, councils[0], kind="convocation", federation=federation, petition=petition,
                             title="Back it", deliberation_ends=clock.now(), voting_ends=clock.now() + timedelta(hours=2))
    decide(demand, "yes")
    congress = Congress.objects.get()
    founder = federation.created_by
    user = {"delegate": members_of(councils[0])[0], "member": members_of(councils[1])[1], "founder": founder}[role]
    users = {role: user}
    values = {"slug": [federation.slug, councils[0].slug], "_ids": [congress.pk, petition.pk], "fmt": ["csv"]}
    before = snapshot([], [], [congress])
    try_every_route(role, users, values)
    try_every_service(user, [congress, petition, federation])
    assert snapshot([], [], [congress]) == before
