"""The economy's pages: a federation's catalogue and plan periods, a council's capabilities or needs, a plan period.

Every page renders for anonymous visitors and members; every form works for the member allowed to use it and
shows a refusal (a message or a form error, never a server error) to anyone else.
"""
from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from councils.decisions.models import Proposal
from councils.economy.models import (
    Capability, DraftNeed, HandProposal, PeriodStatus, PlanningMode, PlanPeriod, Product, WorkingHours,
)
from councils.adapters.charts import convergence_chart, fulfilment_chart
from councils.economy.models import EconomyKind

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def economy_url(council) -> str:
    return f"/c/{council.slug}/economy/"


def html_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def elect_planning_delegate(clock, decide, members_of):
    """The council elects one of its members to an economy office (planning_delegate or coordinator)."""
    from councils.decisions.services import create_proposal

    def elect(council, member, office="planning_delegate"):
        now = clock.now()
        election = create_proposal(members_of(council)[0], council, title=f"Elect our {office}", kind="election",
                                   office=office, options=[{"member": member.username}], deliberation_ends=now,
                                   voting_ends=now + timedelta(hours=1))
        option = election.options.get()
        decision = decide(election, {"ranking": [option.pk]})
        assert decision.winners == [member.username]
        return decision

    return elect


# ----- the pages render ------------------------------------------------------------------------


def test_federation_economy_page_renders_for_anonymous_member_and_delegate(economy_world, members_of):
    w = economy_world
    for user in (None, members_of(w.mill)[1], w.delegate):
        page = client_for(user).get(economy_url(w.federation))
        assert page.status_code == 200
        html = html_of(page)
        assert "Catalogue of products" in html and "a 800 g loaf" in html and "Plan periods" in html
        assert "Catalogue: add flour, bread" in html  # the adopted change, linked
        forms = "Propose a change of the catalogue" in html and "Propose a plan period" in html
        assert forms == (user == w.delegate)


def test_council_economy_pages_render_for_anonymous_and_members(economy_world, members_of):
    w = economy_world
    for council in w.councils:
        for user in (None, members_of(w.mill)[1], members_of(council)[2]):
            page = client_for(user).get(economy_url(council))
            assert page.status_code == 200, (council.name, user)
            html = html_of(page)
            assert "Our planning roles" in html and "Valley Federation" in html
            member = user is not None and user in members_of(council)
            if council in (w.mill, w.bakery):
                assert "Our capabilities" in html and "Our working hours" in html
                assert ('name="cap-' in html) == member and ("Import capabilities" in html) == member
            else:
                assert "Our needs, as adopted" in html and "bread" in html
                assert ("Put the list to the vote" in html) == member
            assert ("Elect our planning delegate" in html) == member


def test_economy_page_of_another_kind_of_council_says_what_it_does(make_council):
    council = make_council(members=1, kind="other")
    page = client_for().get(economy_url(council))
    assert page.status_code == 200 and "take part in the economy through their federations" in html_of(page)


def test_council_page_links_to_its_economy_page(economy_world):
    for council in (economy_world.federation, economy_world.mill, economy_world.north):
        assert f'href="{economy_url(council)}"' in html_of(client_for().get(council.get_absolute_url()))


def test_unknown_pages_are_404(economy_world, open_period):
    w = economy_world
    period = open_period()
    assert client_for().get("/c/no-such-council/economy/").status_code == 404
    assert client_for().get(f"/c/{w.federation.slug}/plan/{period.pk + 100}/").status_code == 404
    assert client_for().get(f"/c/{w.mill.slug}/plan/{period.pk}/").status_code == 404  # not a federation
    assert client_for().get(f"/c/{w.federation.slug}/plan/{period.pk + 100}/economy.json").status_code == 404


# ----- the federation's forms -----------------------------------------------------------------------


def test_delegate_proposes_a_catalogue_change_through_the_form(economy_world):
    w = economy_world
    response = client_for(w.delegate).post(f"{economy_url(w.federation)}catalogue/", {
        "catalogue-name": "salt", "catalogue-unit": "kg", "catalogue-description": "sea salt",
        "catalogue-retire": [w.flour.pk]})
    proposal = Proposal.objects.get(council=w.federation, kind=EconomyKind.CATALOGUE, title__contains="salt")
    assert response.status_code == 302 and response["Location"] == proposal.get_absolute_url()
    assert proposal.payload["add"] == [{"name": "salt", "unit": "kg", "description": "sea salt"}]
    assert proposal.payload["retire"] == [w.flour.pk]


def test_catalogue_change_by_a_non_delegate_is_refused_with_a_message(economy_world, members_of):
    w = economy_world
    before = Proposal.objects.count()
    response = client_for(members_of(w.mill)[1]).post(f"{economy_url(w.federation)}catalogue/", {
        "catalogue-name": "salt", "catalogue-unit": "kg"}, follow=True)
    assert response.status_code == 200 and Proposal.objects.count() == before
    assert "Only delegates of Valley Federation" in html_of(response)


def test_catalogue_change_errors_are_shown_on_the_form(economy_world):
    w = economy_world
    client = client_for(w.delegate)
    missing_unit = client.post(f"{economy_url(w.federation)}catalogue/", {"catalogue-name": "salt"})
    assert missing_unit.status_code == 200
    form = missing_unit.context["catalogue_form"]
    assert form.errors["unit"] == ["must not be empty"]
    twice = client.post(f"{economy_url(w.federation)}catalogue/", {"catalogue-name": "flour", "catalogue-unit": "kg"})
    assert "already in the catalogue" in twice.context["catalogue_form"].errors["name"][0]
    nothing = client.post(f"{economy_url(w.federation)}catalogue/", {})
    assert "at least one product" in html_of(nothing)
    assert not Proposal.objects.filter(kind=EconomyKind.CATALOGUE, title__contains="salt").exists()


def test_delegate_proposes_a_plan_period_through_the_form(economy_world):
    w = economy_world
    response = client_for(w.delegate).post(f"{economy_url(w.federation)}periods/propose/", {
        "period-title": "Summer", "period-aim": "maxmin", "period-max_rounds": "4", "period-round_length_hours": "12"})
    proposal = Proposal.objects.get(council=w.federation, kind=EconomyKind.PLAN_PERIOD)
    assert response["Location"] == proposal.get_absolute_url()
    assert proposal.payload == {"title": "Summer", "aim": "maxmin", "max_rounds": 4, "round_length_s": 12 * 3600}


def test_plan_period_is_refused_to_a_non_delegate_and_while_one_is_in_progress(economy_world, members_of, open_period):
    w = economy_world
    data = {"period-title": "Summer", "period-aim": "weighted", "period-max_rounds": "4", "period-round_length_hours": "12"}
    refused = client_for(members_of(w.bakery)[1]).post(f"{economy_url(w.federation)}periods/propose/", data, follow=True)
    assert "Only delegates of Valley Federation" in html_of(refused)
    open_period()
    busy = client_for(w.delegate).post(f"{economy_url(w.federation)}periods/propose/", data, follow=True)
    assert busy.status_code == 200 and "has a plan period in progress" in html_of(busy)
    bad = client_for(w.delegate).post(f"{economy_url(w.federation)}periods/propose/", {**data, "period-max_rounds": "0"})
    assert bad.status_code == 200 and bad.context["period_form"].errors["max_rounds"]
    assert not Proposal.objects.filter(kind=EconomyKind.PLAN_PERIOD, title__contains="Summer").exists()


# ----- a workplace council's forms -------------------------------------------------------------------


def capability_post(product, labour, capacity, inputs=""):
    prefix = f"cap-{product.pk}"
    return {"product": product.pk, f"{prefix}-labour": labour, f"{prefix}-capacity": capacity, f"{prefix}-inputs": inputs}


def test_member_records_a_capability_with_inputs(economy_world, members_of):
    w = economy_world
    response = client_for(members_of(w.bakery)[2]).post(f"{economy_url(w.bakery)}capabilities/",
                                                         capability_post(w.bread, "0.4", "350", "flour=0.7"))
    assert response.status_code == 302 and response["Location"].startswith(economy_url(w.bakery))
    capability = Capability.objects.get(council=w.bakery, product=w.bread)
    assert (capability.labour, capability.capacity, capability.inputs) == (0.4, 350, {w.flour.pk: 0.7})
    page = html_of(client_for().get(economy_url(w.bakery)))
    assert "flour=0.7" in page and "350" in page


def test_capability_form_refuses_outsiders_and_the_wrong_kind_of_council(economy_world, members_of):
    w = economy_world
    outsider = client_for(members_of(w.north)[1]).post(f"{economy_url(w.bakery)}capabilities/",
                                                        capability_post(w.bread, "9", "9"), follow=True)
    assert outsider.status_code == 200 and "Only members of Bakery Workers" in html_of(outsider)
    assert Capability.objects.get(council=w.bakery, product=w.bread).labour == 0.5
    wrong_kind = client_for(members_of(w.north)[1]).post(f"{economy_url(w.north)}capabilities/",
                                                          capability_post(w.bread, "1", "1"), follow=True)
    assert wrong_kind.status_code == 200 and "capabilities are recorded by a" in html_of(wrong_kind)
    assert not Capability.objects.filter(council=w.north).exists()
    anonymous = client_for().post(f"{economy_url(w.bakery)}capabilities/", capability_post(w.bread, "9", "9"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_capability_errors_are_shown_on_the_row(economy_world, members_of):
    w = economy_world
    client = client_for(members_of(w.bakery)[1])
    unreadable = client.post(f"{economy_url(w.bakery)}capabilities/", capability_post(w.bread, "0.5", "400", "flour 0.6"))
    assert unreadable.status_code == 200
    row = next(r for r in unreadable.context["capability_rows"] if r["product"] == w.bread)
    assert "name=quantity" in row["form"].errors["inputs"][0]
    unknown = client.post(f"{economy_url(w.bakery)}capabilities/", capability_post(w.bread, "0.5", "400", "sugar=1"))
    row = next(r for r in unknown.context["capability_rows"] if r["product"] == w.bread)
    assert "'sugar' is not in the catalogue" in row["form"].errors["inputs"][0]
    negative = client.post(f"{economy_url(w.bakery)}capabilities/", capability_post(w.bread, "-1", "400"))
    assert negative.status_code == 200 and "errors" in html_of(negative)
    no_product = client.post(f"{economy_url(w.bakery)}capabilities/", {"product": "999999"}, follow=True)
    assert "choose a product of the catalogue" in html_of(no_product)
    assert Capability.objects.get(council=w.bakery, product=w.bread).inputs == {w.flour.pk: 0.6}


def test_member_removes_a_capability_and_an_outsider_cannot(economy_world, members_of):
    w = economy_world
    capability = Capability.objects.get(council=w.bakery, product=w.bread)
    url = f"{economy_url(w.bakery)}capabilities/{capability.pk}/remove/"
    refused = client_for(members_of(w.mill)[1]).post(url, follow=True)
    assert "Only members of Bakery Workers" in html_of(refused) and Capability.objects.filter(pk=capability.pk).exists()
    client_for(members_of(w.bakery)[1]).post(url)
    assert not Capability.objects.filter(pk=capability.pk).exists()


def test_working_hours_form(economy_world, members_of):
    w = economy_world
    client_for(members_of(w.mill)[2]).post(f"{economy_url(w.mill)}hours/", {"hours-hours": "120"})
    assert WorkingHours.objects.get(council=w.mill).hours == 120
    refused = client_for(members_of(w.bakery)[1]).post(f"{economy_url(w.mill)}hours/", {"hours-hours": "1"}, follow=True)
    assert "Only members of Mill Workers" in html_of(refused)
    bad = client_for(members_of(w.mill)[2]).post(f"{economy_url(w.mill)}hours/", {"hours-hours": "many"})
    assert bad.status_code == 200 and bad.context["hours_form"].errors["hours"]
    assert WorkingHours.objects.get(council=w.mill).hours == 120


def upload(text: str | bytes, name="capabilities.csv", fmt="csv") -> dict:
    data = text.encode() if isinstance(text, str) else text
    return {"import-file": SimpleUploadedFile(name, data, content_type="text/csv"), "import-fmt": fmt}


def test_csv_import_records_capabilities(economy_world, members_of):
    w = economy_world
    csv = 'product,labour,capacity,inputs\nbread,0.45,380,"flour=0.65"\nflour,0.2,100,\n'
    response = client_for(members_of(w.bakery)[1]).post(f"{economy_url(w.bakery)}capabilities/import/", upload(csv))
    assert response.status_code == 302
    bread = Capability.objects.get(council=w.bakery, product=w.bread)
    assert (bread.labour, bread.capacity, bread.inputs) == (0.45, 380, {w.flour.pk: 0.65})
    assert Capability.objects.get(council=w.bakery, product=w.flour).capacity == 100


def test_csv_import_errors_name_the_row_and_column(economy_world, members_of):
    w = economy_world
    csv = "product,labour,capacity\nflour,0.2,100\nbread,0.5,-4\n"
    response = client_for(members_of(w.bakery)[1]).post(f"{economy_url(w.bakery)}capabilities/import/", upload(csv))
    assert response.status_code == 200
    html = html_of(response)
    assert "row 3, column capacity" in html and 'role="alert"' in html
    assert not Capability.objects.filter(council=w.bakery, product=w.flour).exists()  # all or nothing
    unknown = client_for(members_of(w.bakery)[1]).post(f"{economy_url(w.bakery)}capabilities/import/",
                                                        upload("product,labour,capacity\nbred,1,2\n"))
    assert "row 2, column product" in html_of(unknown) and "bread" in html_of(unknown)


def test_csv_import_is_refused_to_outsiders(economy_world, members_of):
    w = economy_world
    response = client_for(members_of(w.mill)[1]).post(f"{economy_url(w.bakery)}capabilities/import/",
                                                       upload("product,labour,capacity\nflour,1,2\n"), follow=True)
    assert response.status_code == 200 and "Only members of Bakery Workers" in html_of(response)
    assert not Capability.objects.filter(council=w.bakery, product=w.flour).exists()


def test_economy_file_import_reads_the_downloaded_file(economy_world, open_period, members_of):
    w = economy_world
    period = open_period()
    data = client_for().get(f"/c/{w.federation.slug}/plan/{period.pk}/economy.json").content
    response = client_for(members_of(w.bakery)[1]).post(f"{economy_url(w.bakery)}capabilities/import/",
                                                         upload(data, name="economy.json", fmt="economy"))
    assert response.status_code == 302
    assert Capability.objects.get(council=w.bakery, product=w.flour).capacity == 1000  # as the mill recorded it
    broken = client_for(members_of(w.bakery)[1]).post(f"{economy_url(w.bakery)}capabilities/import/",
                                                       upload(b"{}", name="economy.json", fmt="economy"))
    assert broken.status_code == 200 and 'role="alert"' in html_of(broken)


# ----- a neighbourhood council's forms ----------------------------------------------------------------


def test_members_edit_the_needs_list_and_put_it_to_the_vote(economy_world, members_of):
    w = economy_world
    client = client_for(members_of(w.south)[1])
    salt = Product.objects.create(federation=w.federation, name="salt", unit="kg", added_at=w.flour.added_at)
    client.post(f"{economy_url(w.south)}needs/", {"need-product": salt.pk, "need-quantity": "5", "need-priority": "1"})
    line = DraftNeed.objects.get(council=w.south, product=salt)
    assert (line.quantity, line.priority) == (5, 1)
    client.post(f"{economy_url(w.south)}needs/", {"product": w.bread.pk, "line": "1", f"need-{w.bread.pk}-quantity": "130",
                                                  f"need-{w.bread.pk}-priority": "3"})
    bread = DraftNeed.objects.get(council=w.south, product=w.bread)
    assert (bread.quantity, bread.priority) == (130, 3)
    client.post(f"{economy_url(w.south)}needs/{salt.pk}/remove/")
    assert not DraftNeed.objects.filter(council=w.south, product=salt).exists()
    response = client.post(f"{economy_url(w.south)}needs/propose/")
    proposal = Proposal.objects.filter(council=w.south, kind=EconomyKind.NEEDS).latest("pk")
    assert response["Location"] == proposal.get_absolute_url()
    assert [(p["name"], p["quantity"], p["priority"]) for p in proposal.payload] == [("bread", 130, 3)]
    page = html_of(client.get(economy_url(w.south)))
    assert proposal.get_absolute_url() in page and "Votes on our needs" in page


def test_needs_list_refuses_outsiders_and_shows_errors(economy_world, members_of):
    w = economy_world
    outsider = client_for(members_of(w.north)[1])
    refused = outsider.post(f"{economy_url(w.south)}needs/", {"need-product": w.flour.pk, "need-quantity": "5",
                                                              "need-priority": "1"}, follow=True)
    assert "Only members of South Neighbourhood" in html_of(refused)
    refused = outsider.post(f"{economy_url(w.south)}needs/", {"need-product": w.flour.pk}, follow=True)
    assert "Only members of South Neighbourhood" in html_of(refused)
    assert not DraftNeed.objects.filter(council=w.south, product=w.flour).exists()
    vote = outsider.post(f"{economy_url(w.south)}needs/propose/", follow=True)
    assert vote.status_code == 200 and "Only members of South Neighbourhood" in html_of(vote)
    removed = outsider.post(f"{economy_url(w.south)}needs/{w.bread.pk}/remove/", follow=True)
    assert "Only members of South Neighbourhood" in html_of(removed)
    assert DraftNeed.objects.filter(council=w.south, product=w.bread).exists()
    member = client_for(members_of(w.south)[1])
    zero = member.post(f"{economy_url(w.south)}needs/", {"need-product": w.flour.pk, "need-quantity": "0"})
    assert zero.status_code == 200 and "positive" in zero.context["need_form"].errors["quantity"][0]
    member.post(f"{economy_url(w.south)}needs/{w.bread.pk}/remove/")
    empty = member.post(f"{economy_url(w.south)}needs/propose/", follow=True)
    assert "the needs list is empty" in html_of(empty)
    workplace = client_for(members_of(w.mill)[1]).post(f"{economy_url(w.mill)}needs/", {
        "need-product": w.flour.pk, "need-quantity": "5"}, follow=True)
    assert workplace.status_code == 200 and "needs are recorded by a neighbourhood" in html_of(workplace).lower()


# ----- planning roles ------------------------------------------------------------------------------


def test_council_page_shows_its_planning_delegate_and_coordinator(economy_world, members_of, elect_planning_delegate):
    w = economy_world
    elect_planning_delegate(w.bakery, members_of(w.bakery)[1])
    elect_planning_delegate(w.bakery, members_of(w.bakery)[2], office="coordinator")
    html = html_of(client_for().get(economy_url(w.bakery)))
    roles = html.split('id="roles-h"')[1].split("</section>")[0]
    assert members_of(w.bakery)[1].username in roles and members_of(w.bakery)[2].username in roles
    member_view = html_of(client_for(members_of(w.bakery)[0]).get(economy_url(w.bakery)))
    assert "?kind=election&amp;office=planning_delegate" in member_view and "office=coordinator" in member_view
    assert "office=coordinator" not in html_of(client_for(members_of(w.north)[0]).get(economy_url(w.north)))


# ----- the plan period page -----------------------------------------------------------------------


def svgs(html: str) -> list[ElementTree.Element]:
    found = []
    for chunk in html.split("<svg")[1:]:
        found.append(ElementTree.fromstring("<svg" + chunk.split("</svg>")[0] + "</svg>"))
    return found


def test_plan_period_page_follows_the_period_from_computing_to_adopted(economy_world, open_period, work, vote_parts,
                                                                       federation_vote, members_of):
    w = economy_world
    period = open_period()
    url = period.get_absolute_url()
    assert url == f"/c/{w.federation.slug}/plan/{period.pk}/"
    viewers = (None, members_of(w.north)[1], w.delegate)
    for user in viewers:
        html = html_of(client_for(user).get(url))
        assert "Planning rounds" in html and "computing the next round" in html and f'href="{url}"' in html
    work()
    period.refresh_from_db()
    assert period.status == PeriodStatus.ACCEPTANCE
    for user in viewers:
        html = html_of(client_for(user).get(url))
        assert "Councils voting on their parts" in html and "Indicative price" in html
        assert "surplus of" in html or "shortage of" in html or "<td>balanced</td>" in html
        assert "Each council's current proposal" in html and "Mill Workers" in html
        for part in period.parts.all():
            assert part.vote.get_absolute_url() in html
    vote_parts(period)
    adoption = period.votes.get(kind=EconomyKind.PLAN_ADOPTION)
    html = html_of(client_for().get(url))
    assert "Federation voting on the whole plan" in html and adoption.get_absolute_url() in html
    for mandate in adoption.mandates.all():
        assert mandate.get_absolute_url() in html
    federation_vote(adoption)
    for user in viewers:
        html = html_of(client_for(user).get(url))
        assert 'outcome-adopted">Adopted' in html
        assert "Labour value" in html and "0.56" in html  # bread: 0.5 h + 0.6 kg of flour at 0.1 h
        assert 'id="gap">0.00%' in html
        charts = svgs(html)
        assert len(charts) == 2
        for chart in charts:
            assert chart.get("role") == "img" and chart.find(f"{SVG}title").text and chart.find(f"{SVG}desc").text
        fulfilment = next(c for c in charts if "Needs met" in c.find(f"{SVG}title").text)
        assert "North Neighbourhood 100%" in fulfilment.find(f"{SVG}desc").text
        assert f"economy-{period.pk}.json" in html and f"councils plan economy-{period.pk}.json" in html


def test_gap_not_computed_is_said_so(economy_world, open_period, work):
    period = open_period()
    work()
    period.refresh_from_db()
    plan = period.result
    plan["gap"] = plan["optimum_objective"] = None
    PlanPeriod.objects.filter(pk=period.pk).update(result_json=json.dumps(plan))
    assert 'id="gap">not computed' in html_of(client_for().get(period.get_absolute_url()))


def test_page_settles_closed_part_votes_before_showing_the_period(clock, economy_world, open_period, work, members_of):
    from councils.decisions.services import cast_ballot

    period = open_period()
    work()
    period.refresh_from_db()
    for part in period.parts.all():
        for member in members_of(part.council):
            cast_ballot(member, part.vote, "yes")
    clock.set(max(p.vote.voting_ends for p in period.parts.all()) + timedelta(seconds=1))
    html = html_of(client_for().get(period.get_absolute_url()))  # no worker pass: the page settles them
    assert "Federation voting on the whole plan" in html


def test_rejected_part_publishes_its_objection_on_the_page(economy_world, open_period, work, vote_parts):
    w = economy_world
    period = open_period()
    work()
    period.refresh_from_db()
    vote_parts(period, choices={w.south.pk: "no"}, reasons={w.south.pk: "Not enough bread for the school"})
    html = html_of(client_for().get(period.get_absolute_url()))
    assert "Published objections" in html and "Not enough bread for the school" in html
    assert "<strong>South Neighbourhood</strong> rejected its part" in html


def test_planning_delegate_answers_by_hand_and_revises_within_the_window(clock, economy_world, open_period, work,
                                                                       members_of, elect_planning_delegate):
    w = economy_world
    delegate = members_of(w.bakery)[1]
    elect_planning_delegate(w.bakery, delegate)
    period = open_period()
    url = period.get_absolute_url()
    client = client_for(delegate)
    assert "How Bakery Workers answers the rounds" in html_of(client.get(url))
    assert "How Bakery Workers answers" not in html_of(client_for(members_of(w.bakery)[2]).get(url))
    client.post(f"{url}mode/", {"council": w.bakery.pk, "mode": "hand"})
    assert PlanningMode.objects.get(period=period, council=w.bakery).by_hand
    work()
    period.refresh_from_db()
    assert period.status == PeriodStatus.ROUNDS and period.round_ends is not None
    html = html_of(client.get(url))
    assert "Send our proposal" in html and "may revise" in html and "Bakery Workers" in html
    capability = Capability.objects.get(council=w.bakery, product=w.bread)
    field = f"hand-{w.bakery.pk}-q_{capability.pk}"
    too_much = client.post(f"{url}revise/", {"council": w.bakery.pk, field: "100000"})
    assert too_much.status_code == 200 and "less than or equal to" in html_of(too_much)
    assert not HandProposal.objects.exists()
    response = client.post(f"{url}revise/", {"council": w.bakery.pk, field: "280"})
    assert response.status_code == 302
    assert HandProposal.objects.get(period=period, council=w.bakery).content == {str(capability.pk): 280.0}


def test_hand_acts_are_refused_to_others_and_outside_the_window(clock, economy_world, open_period, work, members_of,
                                                                elect_planning_delegate):
    w = economy_world
    delegate = members_of(w.bakery)[1]
    elect_planning_delegate(w.bakery, delegate)
    period = open_period()
    url = period.get_absolute_url()
    other = client_for(members_of(w.bakery)[2]).post(f"{url}mode/", {"council": w.bakery.pk, "mode": "hand"}, follow=True)
    assert "elected planning delegate" in html_of(other)
    assert not PlanningMode.objects.get(period=period, council=w.bakery).by_hand
    client = client_for(delegate)
    nonsense = client.post(f"{url}mode/", {"council": w.bakery.pk, "mode": "sometimes"}, follow=True)
    assert "choose by rule or by hand" in html_of(nonsense)
    stranger = client.post(f"{url}mode/", {"council": "999999", "mode": "hand"}, follow=True)
    assert "no part in this plan period" in html_of(stranger)
    client.post(f"{url}mode/", {"council": w.bakery.pk, "mode": "hand"})
    work()
    period.refresh_from_db()
    capability = Capability.objects.get(council=w.bakery, product=w.bread)
    field = f"hand-{w.bakery.pk}-q_{capability.pk}"
    refused = client_for(members_of(w.bakery)[2]).post(f"{url}revise/", {"council": w.bakery.pk, field: "280"}, follow=True)
    assert refused.status_code == 200 and "elected planning delegate" in html_of(refused)
    clock.set(period.round_ends + timedelta(seconds=1))
    late = client.post(f"{url}revise/", {"council": w.bakery.pk, field: "280"}, follow=True)
    assert late.status_code == 200 and "none is open now" in html_of(late)
    assert not HandProposal.objects.exists()


def test_a_period_that_could_not_start_says_why(economy_world, federation_vote, members_of):
    from councils.economy import services

    w = economy_world
    proposal = services.propose_plan_period(w.delegate, w.federation, title="Autumn")
    for capability in Capability.objects.select_related("council"):
        services.remove_capability(members_of(capability.council)[1], capability)
    assert federation_vote(proposal).outcome == "adopted"
    period = PlanPeriod.objects.get(opened_by=proposal.decision)
    assert period.status == PeriodStatus.FAILED
    for user in (None, w.delegate):
        html = html_of(client_for(user).get(period.get_absolute_url()))
        assert "Could not start" in html and "no member workplace council has recorded capabilities" in html
        assert "economy.json" not in html and "Latest round" not in html


def test_economy_download_is_valid_json(economy_world, open_period):
    from councils.planning.io import economy_from_dict

    period = open_period()
    response = client_for().get(f"/c/{economy_world.federation.slug}/plan/{period.pk}/economy.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="economy-{period.pk}.json"'
    data = json.loads(response.content)
    assert data == json.loads(period.economy_json)
    economy = economy_from_dict(data)
    assert economy.product_names == ["flour", "bread"] and economy.n_workplaces == 2


def test_federation_page_lists_its_plan_periods(economy_world, open_period):
    period = open_period()
    html = html_of(client_for().get(economy_url(economy_world.federation)))
    assert period.get_absolute_url() in html and "Planning rounds" in html
    council_page = html_of(client_for().get(economy_url(economy_world.north)))
    assert period.get_absolute_url() in council_page


# ----- the charts ----------------------------------------------------------------------------------


def test_fulfilment_chart_is_an_accessible_image_that_escapes_names():
    svg = str(fulfilment_chart([("North", 1.0), ("<script>alert(1)</script>", 0.473)]))
    assert "<script>" not in svg and "style" not in svg
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img" and "Least served" in root.get("aria-label")
    desc = root.find(f"{SVG}desc").text
    assert "North 100%" in desc and "<script>alert(1)</script> 47%" in desc


def test_convergence_chart_draws_zero_shortages_on_the_floor_of_its_log_scale():
    svg = str(convergence_chart([[0, 1.0], [1, 0.2], [2, 0.0], [3, 0.001]], boundaries=[1, 3]))
    root = ElementTree.fromstring(svg)
    assert root.find(f"{SVG}title").text.startswith("Convergence")
    desc = root.find(f"{SVG}desc").text
    assert "100% at iteration 0" in desc and "round 1 ended at iteration 1 (20%)" in desc and "round 2" in desc
    points = root.find(f"{SVG}polyline").get("points").split()
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] < ys[1] < ys[3] < ys[2]  # higher share, higher on the chart; zero lowest
    empty = ElementTree.fromstring(str(convergence_chart([])))
    assert "No iteration" in empty.find(f"{SVG}desc").text


def test_a_no_to_a_part_on_its_page_carries_the_reason_published_as_the_objection(clock, economy_world, open_period,
                                                                                    work, members_of):
    from councils.decisions.services import cast_ballot

    w = economy_world
    period = open_period()
    work()
    part = period.parts.select_related("vote").get(council=w.south)
    page = html_of(client_for(members_of(w.south)[0]).get(part.vote.get_absolute_url()))
    assert "published as our objection" in page
    for member in members_of(w.south):
        response = client_for(member).post(f"/c/{w.south.slug}/p/{part.vote.pk}/vote/",
                                           {"choice": "no", "reason": "The school kitchen needs more bread"})
        assert response.status_code == 302
    for other in period.parts.exclude(council=w.south).select_related("council", "vote"):
        for member in members_of(other.council):
            cast_ballot(member, other.vote, "yes")
    clock.set(part.vote.voting_ends + timedelta(seconds=1))
    work()
    part.refresh_from_db()
    assert part.status == "rejected" and "school kitchen" in part.objection
