"""The README's tour in a real browser, as a newcomer takes it: desktop and a 390 px phone, logged out and in.

On every page: axe-core finds no serious or critical accessibility violation, and at 390 px nothing scrolls
sideways (wide tables and the federation tree scroll inside their own box). A screenshot of each main page at
390 px is written to the test's temporary folder. The proposal form switches its fields with the kind."""

import re

import pytest
from django.contrib.auth import get_user_model

from councils.assemblies.models import Council
from councils.decisions.models import Proposal
from councils.decisions.services import add_comment
from councils.demo import DEMO_FEDERATION, DEMO_PASSWORD, FIRST_PLAN, load_demo
from councils.economy.models import PlanPeriod
from councils.federation.models import Congress, Delegate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# The pages whose phone screenshots are kept: what a newcomer sees first.
MAIN = {"home", "councils", "bakery", "proposal-open", "proposal-result", "record", "federation", "congress", "plan", "profile"}


def tour_pages(logged_in: bool) -> list[tuple[str, str]]:
    bakery = Council.objects.get(name__startswith="Riverside")
    street = Council.objects.get(name__startswith="Northside")
    federation = Council.objects.get(name=DEMO_FEDERATION)
    title = lambda t: Proposal.objects.get(title=t).get_absolute_url()  # noqa: E731
    courtyard = Proposal.objects.get(title="House rules for the courtyard")
    congress = Congress.objects.get(federation=federation)
    delegate = Delegate.objects.filter(federation=federation, council=bakery).order_by("-pk").first()
    pages = [
        ("home", "/"), ("councils", "/councils/"), ("congresses", "/congresses/"),
        ("bakery", bakery.get_absolute_url()),
        ("proposal-open", title("Elect a second delivery coordinator")),
        ("proposal-result", title("Move to a four-day week from next month")),
        ("record", f"/c/{bakery.slug}/record/"),
        ("facilitator", title("Elect our facilitator")),
        ("market", title("Which day for the street market?")),
        ("courtyard", courtyard.get_absolute_url()),
        ("courtyard-second", Proposal.objects.get(fallback_of=courtyard).get_absolute_url()),
        ("tractor", Proposal.objects.get(title__startswith="Rotate the tractor").get_absolute_url()),
        ("crop", title("Which crop for the east field?")),
        ("street", street.get_absolute_url()),
        ("federation", federation.get_absolute_url()),
        ("delegate", f"/delegates/{delegate.pk}/"),
        ("congress", f"/c/{federation.slug}/congress/{congress.pk}/"),
        ("economy", f"/c/{federation.slug}/economy/"),
        ("plan", PlanPeriod.objects.get(title=FIRST_PLAN).get_absolute_url()),
        ("not-found", "/no/such/page/"),
    ]
    if logged_in:
        pages += [("profile", "/profile/"), ("proposal-form", f"/c/{bakery.slug}/proposals/new/"),
                  ("leave", f"/c/{bakery.slug}/leave/"), ("recall", f"/delegates/{delegate.pk}/recall/")]
    else:
        pages += [("login", "/login/"), ("signup", "/signup/"), ("password-reset", "/password-reset/")]
    return pages


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"  # the audit did run in the page
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def sideways(page) -> int:
    """How far the page scrolls sideways (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def log_in(page):
    page.goto("/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_the_tour_is_accessible_and_fits_a_phone(browser, live_server, tmp_path):
    load_demo()
    ana = get_user_model().objects.get(username="ana")
    # A comment with one very long word must not widen the page for anyone.
    add_comment(ana, Proposal.objects.get(title="Elect a second delivery coordinator"), "x" * 3000)
    problems = []
    shots = []
    for logged_in in (False, True):
        pages = tour_pages(logged_in)
        for viewport in (DESKTOP, PHONE):
            context = browser.new_context(base_url=live_server.url, viewport=viewport)
            page = context.new_page()
            page.set_default_timeout(20_000)
            if logged_in:
                log_in(page)
            for name, url in pages:
                response = page.goto(url)
                where = f"{name} ({'ana' if logged_in else 'visitor'}, {viewport['width']} px)"
                if response.status != (404 if name == "not-found" else 200):
                    problems.append(f"{where}: HTTP {response.status}")
                problems += [f"{where}: {v}" for v in serious_violations(page)]
                if viewport is PHONE:
                    overflow = sideways(page)
                    if overflow > 0:
                        problems.append(f"{where}: the page scrolls {overflow} px sideways")
                    if name in MAIN:
                        shot = tmp_path / f"390px-{name}.png"
                        page.screenshot(path=str(shot), full_page=True)
                        shots.append(shot)
            context.close()
    print(f"screenshots at 390 px: {tmp_path}")
    assert not problems, "\n".join(problems)
    assert {s.stem.removeprefix("390px-") for s in shots} == MAIN
    assert all(s.stat().st_size > 5_000 for s in shots)


def test_federation_tree_keeps_a_legible_size_on_a_phone(browser, live_server):
    load_demo()
    federation = Council.objects.get(name=DEMO_FEDERATION)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    page.goto(federation.get_absolute_url())
    box = page.locator("svg.federation-tree").bounding_box()
    assert box["width"] >= 500 and box["height"] >= 120  # drawn at its own size, scrolled in its figure
    assert sideways(page) == 0
    context.close()


def test_the_proposal_form_shows_the_chosen_kinds_fields(browser, live_server):
    load_demo()
    bakery = Council.objects.get(name__startswith="Riverside")
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    page = context.new_page()
    log_in(page)
    page.goto(f"/c/{bakery.slug}/proposals/new/")
    assert page.get_by_label("Options (one per line)").is_visible()
    assert not page.get_by_label("Office").is_visible()
    assert not page.get_by_role("button", name="Show its fields").is_visible()  # the script switches at once
    page.get_by_label("Kind of proposal").select_option("election")
    assert page.get_by_label("Office").is_visible() and page.get_by_label("Seats").is_visible()
    assert not page.get_by_label("Options (one per line)").is_visible()
    assert page.locator("#proposal-form input[name=kind]").input_value() == "election"
    context.close()
    # Without JavaScript the picker reloads the page with the chosen kind's fields.
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    log_in(page)
    page.goto(f"/c/{bakery.slug}/proposals/new/")
    page.get_by_label("Kind of proposal").select_option("removal")
    page.get_by_role("button", name="Show its fields").click()
    page.wait_for_url(re.compile(r"kind=removal"))
    assert page.get_by_label("Member to remove").is_visible() and not page.get_by_label("Office").is_visible()
    context.close()
