"""The README's tour in a browser set to French: the pages, the log-in, a comment and its confirmation come in
French with French dates, the axe audit still finds nothing serious; the footer's switcher then turns the site
German, without JavaScript as with it."""

import re

import pytest

from councils.assemblies.models import Council
from councils.decisions.models import Proposal
from councils.demo import DEMO_FEDERATION, DEMO_PASSWORD, FIRST_PLAN, load_demo
from councils.economy.models import PlanPeriod
from councils.federation.models import Congress

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

PHONE = {"width": 390, "height": 844}


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_the_tour_in_french(browser, live_server, viewport):
    load_demo()
    bakery = Council.objects.get(name__startswith="Riverside")
    federation = Council.objects.get(name=DEMO_FEDERATION)
    congress = Congress.objects.get(federation=federation)
    open_vote = Proposal.objects.get(title="Elect a second delivery coordinator")
    # The browser's own language is French: Playwright sends it as Accept-Language, as a French browser does.
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = []

    tour = [
        ("/", "Des conseils autogérés"),
        ("/councils/", "Tous les conseils"),
        ("/congresses/", "Congrès"),
        (bakery.get_absolute_url(), "Propositions ouvertes"),
        (open_vote.get_absolute_url(), "Commentaires"),
        (f"/c/{bakery.slug}/record/", f"Registre public de {bakery.name}"),
        (federation.get_absolute_url(), "Ce que décide la fédération"),
        (f"/c/{federation.slug}/congress/{congress.pk}/", "Ordre du jour"),
        (PlanPeriod.objects.get(title=FIRST_PLAN).get_absolute_url(), "Avancement"),
    ]
    for url, words in tour:
        response = page.goto(url)
        assert response.status == 200, url
        assert page.locator("html").get_attribute("lang") == "fr", url
        assert words in page.locator("main").inner_text(), f"{url}: no {words!r}"
        problems += [f"{url}: {v}" for v in serious_violations(page)]
        if viewport is PHONE:
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                problems.append(f"{url}: the page scrolls {overflow} px sideways")
    assert not problems, "\n".join(problems)

    # Dates as a French reader writes them: day/month/year.
    page.goto(bakery.get_absolute_url())
    assert re.search(r"vote ouvert jusqu'au \d\d/\d\d/20\d\d \d\d:\d\d", page.locator("main").inner_text())

    # Log in (Django's own form, in French) and comment: the confirmation is French too.
    page.goto("/login/")
    page.get_by_label(re.compile("Nom d.utilisateur")).fill("ana")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/$"))
    assert "Bienvenue, ana" in page.locator("main").inner_text()
    page.goto(open_vote.get_absolute_url())
    page.get_by_label("Votre commentaire").fill("Je soutiens la proposition.")
    page.get_by_role("button", name="Commenter").click()
    page.get_by_text("Votre commentaire est ajouté.").wait_for()

    # The footer's switcher: German from now on, whatever the browser says.
    page.get_by_label("Langue").select_option("de")
    page.get_by_role("button", name="Changer de langue").click()
    page.wait_for_url(re.compile(re.escape(open_vote.get_absolute_url()) + "$"))
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Kommentare" in page.locator("main").inner_text()
    page.goto("/councils/")
    assert "Alle Räte" in page.locator("main").inner_text()
    context.close()
