"""A small economy: two workplaces, two neighbourhoods, a federation that plans production."""
from datetime import timedelta

import pytest

PLANNING = {"competences": ["production planning", "transport"]}


@pytest.fixture
def federation_vote(clock):
    """Every member council mandates ``choice`` on a federation proposal, and the federation's vote runs to its close."""
    from councils.decisions.models import Decision
    from councils.decisions.services import cast_ballot, settle_due

    def run(proposal, choice="yes"):
        clock.set(max(clock.now(), min(m.deliberation_ends for m in proposal.mandates.all())))
        for mandate in proposal.mandates.select_related("council"):
            for membership in mandate.council.memberships.filter(left_at__isnull=True):
                cast_ballot(membership.member, mandate, choice)
        clock.set(max(clock.now(), proposal.voting_ends) + timedelta(seconds=1))
        settle_due(proposal.council)
        return Decision.objects.get(proposal=proposal)

    return run


@pytest.fixture
def work():
    """Run the background worker's pass in this process, as `councils worker` does each second."""
    from councils.economy.worker import work_once

    return work_once


@pytest.fixture
def economy_world(clock, make_council, join_federation, elect_delegates, members_of, decide, federation_vote):
    """Federation "Valley" with a mill and a bakery (workplaces) and two neighbourhoods, a catalogue of flour and
    bread, the workplaces' capabilities and hours, and both neighbourhoods' needs adopted by vote."""
    from councils.assemblies.services import create_council
    from councils.economy import services
    from councils.economy.models import Product

    founder = make_council(members=0).memberships.first().member
    federation = create_council(founder, name="Valley Federation", kind="federation", federation_charter=PLANNING)
    mill = make_council(members=2, name="Mill Workers", kind="workplace")
    bakery = make_council(members=2, name="Bakery Workers", kind="workplace")
    north = make_council(members=2, name="North Neighbourhood", kind="neighbourhood")
    south = make_council(members=2, name="South Neighbourhood", kind="neighbourhood")
    councils = [mill, bakery, north, south]
    for council in councils:
        join_federation(council, federation)
        elect_delegates(council, federation, [members_of(council)[0]])
    delegate = members_of(mill)[0]
    change = services.propose_catalogue_change(delegate, federation, add=[
        {"name": "flour", "unit": "kg"}, {"name": "bread", "unit": "loaf", "description": "a 800 g loaf"}])
    assert federation_vote(change).outcome == "adopted"
    flour, bread = Product.objects.get(name="flour"), Product.objects.get(name="bread")
    services.record_capability(members_of(mill)[1], mill, product=flour, labour=0.1, capacity=1000)
    services.record_working_hours(members_of(mill)[1], mill, 80)
    services.record_capability(members_of(bakery)[1], bakery, product=bread, labour=0.5, capacity=400,
                               inputs={"flour": 0.6})
    services.record_working_hours(members_of(bakery)[1], bakery, 150)
    for council, lines in ((north, [(bread, 150, 2), (flour, 50, 1)]), (south, [(bread, 120, 1)])):
        for product, qty, prio in lines:
            services.set_draft_need(members_of(council)[1], council, product=product, quantity=qty, priority=prio)
        vote = services.propose_needs(members_of(council)[1], council, deliberation_ends=clock.now(),
                                      voting_ends=clock.now() + timedelta(hours=1))
        assert decide(vote, "yes").outcome == "adopted"

    class World:
        pass

    world = World()
    world.federation, world.mill, world.bakery, world.north, world.south = federation, mill, bakery, north, south
    world.councils, world.flour, world.bread, world.delegate = councils, flour, bread, delegate
    return world


@pytest.fixture
def open_period(clock, economy_world, federation_vote, work):
    """Open a plan period in the economy world (the federation's vote passes) and return it, not yet computed."""
    from councils.economy import services
    from councils.economy.models import PlanPeriod

    def run(**terms):
        terms = {"title": "Spring", "aim": "weighted", "max_rounds": 5, "round_length_hours": 24, **terms}
        proposal = services.propose_plan_period(economy_world.delegate, economy_world.federation, **terms)
        decision = federation_vote(proposal)
        assert decision.outcome == "adopted"
        return PlanPeriod.objects.get(opened_by=decision)

    return run


@pytest.fixture
def vote_parts(clock, work):
    """Every member of each council votes ``choices[council]`` (default yes) on its part; the votes close and the worker settles them."""
    from councils.decisions.services import cast_ballot

    def run(period, choices=None, reasons=None):
        choices, reasons = choices or {}, reasons or {}
        parts = list(period.parts.filter(attempt=period.attempt).select_related("vote", "council"))
        for part in parts:
            for membership in part.council.memberships.filter(left_at__isnull=True):
                choice = choices.get(part.council_id, "yes")
                vote = {"choice": choice, "reason": reasons[part.council_id]} if part.council_id in reasons else choice
                cast_ballot(membership.member, part.vote, vote)
        clock.set(max(clock.now(), max(p.vote.voting_ends for p in parts)) + timedelta(seconds=1))
        work()
        period.refresh_from_db()
        return parts

    return run
