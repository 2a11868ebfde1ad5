"""A small economy taken through its pages, from the plan period's proposal to the adopted plan.

What a person does is done in the browser: a delegate proposes the period on the federation's economy page, the
members vote on their councils' parts and on the federation's mandates on the proposal pages, and everyone reads
the plan page. The set-up before (catalogue, capabilities, needs) goes through the services, the background worker
runs in this process between page actions, and the application's clock is moved past each vote's close.
"""

import re
from datetime import timedelta

import pytest
from councils.economy.models import EconomyKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
PLANNING = {"competences": ["production planning"]}


def log_in(page, username):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Welcome, {username}").wait_for()


def log_out(page):
    page.get_by_role("button", name="Log out").click()


def federation_vote(clock, proposal):
    """Every member council mandates yes and the federation's vote runs to its close (set-up only)."""
    from councils.decisions.services import cast_ballot, settle_due

    clock.set(max(clock.now(), min(m.deliberation_ends for m in proposal.mandates.all())))
    for mandate in proposal.mandates.select_related("council"):
        for membership in mandate.council.memberships.filter(left_at__isnull=True):
            cast_ballot(membership.member, mandate, "yes")
    clock.set(max(clock.now(), proposal.voting_ends) + timedelta(seconds=1))
    settle_due(proposal.council)
    return proposal.decision


def vote_yes_on(page, url):
    page.goto(url)
    page.get_by_text("Voting is open until").wait_for()
    page.get_by_role("radio", name="Yes", exact=True).check()
    page.get_by_role("button", name="Cast my vote").click()
    page.get_by_text("Your vote is recorded").wait_for()


@pytest.fixture
def valley(clock, make_user, make_council, join_federation, elect_delegates, decide):
    """Rosa works at the mill and the bakery, Noor lives in the north and the south; each council is theirs alone.
    The federation's catalogue (flour, bread), the workplaces' capabilities and hours and the neighbourhoods' needs
    are recorded; nothing of the plan period exists yet."""
    from councils.assemblies.services import create_council
    from councils.economy import services
    from councils.economy.models import Product

    rosa, noor = make_user("rosa", password=PASSWORD), make_user("noor", password=PASSWORD)
    federation = create_council(make_user(), name="Valley Federation", kind="federation", federation_charter=PLANNING)
    mill = make_council(rosa, name="Mill Workers", kind="workplace")
    bakery = make_council(rosa, name="Bakery Workers", kind="workplace")
    north = make_council(noor, name="North Neighbourhood", kind="neighbourhood")
    south = make_council(noor, name="South Neighbourhood", kind="neighbourhood")
    for council, person in ((mill, rosa), (bakery, rosa), (north, noor), (south, noor)):
        join_federation(council, federation)
        elect_delegates(council, federation, [person])
    change = services.propose_catalogue_change(rosa, federation, add=[
        {"name": "flour", "unit": "kg"}, {"name": "bread", "unit": "loaf", "description": "an 800 g loaf"}])
    assert federation_vote(clock, change).outcome == "adopted"
    flour, bread = Product.objects.get(name="flour"), Product.objects.get(name="bread")
    services.record_capability(rosa, mill, product=flour, labour=0.1, capacity=1000)
    services.record_working_hours(rosa, mill, 80)
    services.record_capability(rosa, bakery, product=bread, labour=0.5, capacity=400, inputs={"flour": 0.6})
    services.record_working_hours(rosa, bakery, 150)
    for council, lines in ((north, [(bread, 150, 2), (flour, 50, 1)]), (south, [(bread, 120, 1)])):
        for product, quantity, priority in lines:
            services.set_draft_need(noor, council, product=product, quantity=quantity, priority=priority)
        vote = services.propose_needs(noor, council, deliberation_ends=clock.now(),
                                      voting_ends=clock.now() + timedelta(hours=1))
        assert decide(vote, "yes").outcome == "adopted"
    return federation


def test_a_plan_period_from_proposal_to_adopted_plan_through_the_pages(page, clock, valley, tmp_path):
    from councils.decisions.models import Proposal
    from councils.economy.models import PeriodStatus, PlanPeriod
    from councils.economy.worker import work_once
    from councils.record.services import verify_all

    federation = valley

    # Rosa, a delegate, proposes the plan period on the federation's economy page.
    log_in(page, "rosa")
    page.goto(federation.get_absolute_url())
    page.get_by_role("link", name="Economy and planning").click()
    page.get_by_role("cell", name="an 800 g loaf").wait_for()
    page.get_by_label("Title of the period").fill("Spring")
    page.get_by_label("Round limit").fill("5")
    page.get_by_label("Round length (hours)").fill("24")
    page.get_by_role("button", name="Propose the plan period").click()
    page.get_by_text("The plan period is proposed").wait_for()
    proposal = Proposal.objects.get(council=federation, kind=EconomyKind.PLAN_PERIOD)
    assert page.url.endswith(proposal.get_absolute_url())

    # The member councils' mandates adopt it; the period opens, and the page shows the worker computing.
    assert federation_vote(clock, proposal).outcome == "adopted"
    period = PlanPeriod.objects.get(opened_by=proposal.decision)
    page.goto(f"/c/{federation.slug}/economy/")
    page.get_by_role("link", name="Spring", exact=True).click()
    page.get_by_text("Planning rounds").first.wait_for()
    page.get_by_text("computing the next round").wait_for()

    # The worker computes the rounds; reloading shows the plan and a vote on each council's part.
    assert work_once() >= 1
    page.get_by_role("link", name="Reload this page").click()
    page.get_by_text("Councils voting on their parts").first.wait_for()
    page.get_by_role("heading", name="Latest round").wait_for()
    assert page.get_by_role("row", name=re.compile(r"^flour")).first.is_visible()
    parts = {p.council.name: p.vote.get_absolute_url() for p in period.parts.select_related("council", "vote")}
    assert set(parts) == {"Mill Workers", "Bakery Workers", "North Neighbourhood", "South Neighbourhood"}

    # Each council accepts its part on its proposal page: Rosa for the workplaces, Noor for the neighbourhoods.
    for name in ("Mill Workers", "Bakery Workers"):
        page.goto(period.get_absolute_url())
        page.get_by_role("row", name=re.compile(name)).get_by_role("link", name=re.compile("Accept our")).click()
        page.get_by_role("radio", name="Yes", exact=True).check()
        page.get_by_role("button", name="Cast my vote").click()
        page.get_by_text("Your vote is recorded").wait_for()
    log_out(page)
    log_in(page, "noor")
    for name in ("North Neighbourhood", "South Neighbourhood"):
        vote_yes_on(page, parts[name])

    # The part votes close; the plan page settles them and shows the federation's adoption vote.
    period.refresh_from_db()
    clock.set(max(p.vote.voting_ends for p in period.parts.all()) + timedelta(seconds=1))
    page.goto(period.get_absolute_url())
    page.get_by_text("Federation voting on the whole plan").first.wait_for()
    adoption = period.votes.get(kind=EconomyKind.PLAN_ADOPTION)
    mandates = {m.council.name: m.get_absolute_url() for m in adoption.mandates.select_related("council")}
    assert page.get_by_role("link", name=re.compile("Adopt the plan")).get_attribute("href") == adoption.get_absolute_url()

    # Each member council votes its mandate on the whole plan, from the links on the plan page.
    clock.set(max(clock.now(), min(m.deliberation_ends for m in adoption.mandates.all())))
    for name in ("North Neighbourhood", "South Neighbourhood"):
        page.goto(period.get_absolute_url())
        adoption_section = page.get_by_role("region", name="Adoption by the federation")
        adoption_section.get_by_role("link", name=name, exact=True).click()
        page.get_by_text("Voting is open until").wait_for()
        page.get_by_role("radio", name="Yes", exact=True).check()
        page.get_by_role("button", name="Cast my vote").click()
        page.get_by_text("Your vote is recorded").wait_for()
    log_out(page)
    log_in(page, "rosa")
    for name in ("Mill Workers", "Bakery Workers"):
        vote_yes_on(page, mandates[name])

    # The federation's vote closes; the worker settles it, and the plan page shows the adopted plan and its charts.
    clock.set(adoption.voting_ends + timedelta(seconds=1))
    work_once()
    page.goto(period.get_absolute_url())
    page.get_by_text("Adopted", exact=True).first.wait_for()
    period.refresh_from_db()
    assert period.status == PeriodStatus.ADOPTED
    assert page.locator("#status .outcome").inner_text() == "Adopted"
    charts = page.locator("svg[role=img]")
    assert charts.count() == 2
    labels = [charts.nth(i).get_attribute("aria-label") for i in range(2)]
    assert any(label.startswith("Convergence") for label in labels)
    assert any(label.startswith("Needs met") for label in labels)
    assert page.locator("#gap").inner_text().startswith("0.00%")
    download = page.get_by_role("link", name=re.compile(r"Download the economy file"))
    assert download.get_attribute("href").endswith(f"/plan/{period.pk}/economy.json")
    shot = tmp_path / "plan.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    assert verify_all().ok
