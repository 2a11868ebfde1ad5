"""The economy through the API: a whole plan period from the catalogue to the adopted plan, and every bad input
answered with a JSON body naming the field, changing nothing."""
import json
from datetime import datetime, timedelta

import pytest
from django.test import Client

from councils.economy.models import Capability, DraftNeed, HandProposal, PlanPeriod, Product, WorkingHours
from councils.record.models import RecordEntry

pytestmark = pytest.mark.django_db

PLANNING = {"competences": ["production planning", "transport"]}


def api(user=None):
    """A client speaking JSON with ``user``'s personal token (or none): ``call(method, path, body=None)``."""
    from councils.accounts.services import create_token

    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {create_token(user, 'tests')[1]}"
    client = Client(**headers)

    def call(method, path, body=None):
        if method in ("get", "delete"):
            return getattr(client, method)(f"/api{path}")
        data = body if isinstance(body, str) else json.dumps(body if body is not None else {})
        return getattr(client, method)(f"/api{path}", data, content_type="application/json")

    return call


def ok(response, status=200):
    assert response.status_code == status, response.content[:500]
    return response.json() if response.content else None


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def members_vote(clock, members_of, proposal_id, council, choice="yes", reason=""):
    """Every member of ``council`` votes on one of its proposals through the API."""
    proposal = ok(api()("get", f"/proposals/{proposal_id}"))
    clock.set(max(clock.now(), when(proposal["deliberation_ends"])))
    for member in members_of(council):
        body = {"choice": choice, **({"reason": reason} if reason else {})}
        ok(api(member)("put", f"/proposals/{proposal_id}/ballot", body))
    return proposal


def mandated_vote(clock, members_of, councils, mandates, voting_ends, choice="yes"):
    """Each member council mandates ``choice`` by its members' ballots; then the federation's vote closes."""
    by_slug = {c.slug: c for c in councils}
    assert {m["council"] for m in mandates} == set(by_slug)
    for mandate in mandates:
        members_vote(clock, members_of, mandate["proposal"], by_slug[mandate["council"]], choice)
    clock.set(max(clock.now(), when(voting_ends)) + timedelta(seconds=1))


@pytest.fixture
def valley(clock, make_council, make_user, join_federation, elect_delegates, members_of):
    """A federation that plans production, with a mill, a bakery and two neighbourhoods (3 members each, the first
    its delegate to the federation), and nothing of the economy recorded yet."""
    from councils.assemblies.services import create_council

    federation = create_council(make_user(), name="Valley Federation", kind="federation", federation_charter=PLANNING)
    councils = {name: make_council(members=2, name=f"{name.title()} Council", kind=kind)
                for name, kind in (("mill", "workplace"), ("bakery", "workplace"), ("north", "neighbourhood"),
                                   ("south", "neighbourhood"))}
    for council in councils.values():
        join_federation(council, federation)
        elect_delegates(council, federation, [members_of(council)[0]])
    return federation, councils


def test_a_plan_period_runs_from_catalogue_to_adopted_plan_through_the_api(clock, valley, members_of, work):
    from councils.planning.io import economy_from_dict
    from councils.record.services import verify_all

    federation, c = valley
    fed = federation.slug
    everyone = list(c.values())
    mill, bakery, north, south = c["mill"], c["bakery"], c["north"], c["south"]
    delegate = members_of(mill)[0]

    # the catalogue: a delegate proposes, the member councils mandate it
    change = ok(api(delegate)("post", f"/federations/{fed}/catalogue/proposals", {
        "add": [{"name": "flour", "unit": "kg"}, {"name": "bread", "unit": "loaf", "description": "an 800 g loaf"}]}), 201)
    assert change["kind"] == "catalogue" and change["url"] == f"/api/proposals/{change['id']}"
    assert [p["name"] for p in change["payload"]["add"]] == ["flour", "bread"] and len(change["mandates"]) == 4
    assert ok(api()("get", f"/federations/{fed}/catalogue")) == []
    mandated_vote(clock, members_of, everyone, change["mandates"], change["voting_ends"])
    catalogue = {p["name"]: p for p in ok(api()("get", f"/federations/{fed}/catalogue"))}
    assert set(catalogue) == {"flour", "bread"} and catalogue["bread"]["description"] == "an 800 g loaf"
    flour, bread = catalogue["flour"]["id"], catalogue["bread"]["id"]
    assert {p["id"] for p in ok(api()("get", f"/councils/{mill.slug}/products"))} == {flour, bread}

    # the workplaces record what they can make: a form, and a CSV import
    worker = members_of(mill)[1]
    recorded = ok(api(worker)("put", f"/councils/{mill.slug}/capabilities/{flour}", {"labour": 0.1, "capacity": 1000}))
    assert recorded["labour"] == 0.1 and recorded["inputs"] == {} and recorded["recorded_by"] == worker.username
    ok(api(worker)("put", f"/councils/{mill.slug}/working-hours", {"hours": 80}))
    baker = members_of(bakery)[1]
    imported = ok(api(baker)("post", f"/councils/{bakery.slug}/capabilities/import", {
        "format": "csv", "content": "product,labour,capacity,inputs\nbread,0.5,400,flour=0.6\n"}))
    assert [(r["name"], r["capacity"], r["inputs"]) for r in imported] == [("bread", 400, {str(flour): 0.6})]
    assert ok(api(baker)("put", f"/councils/{bakery.slug}/working-hours", {"hours": 150}))["hours"] == 150
    shown = ok(api()("get", f"/councils/{bakery.slug}/capabilities"))
    assert shown["hours"] == 150 and [r["product"] for r in shown["capabilities"]] == [bread]

    # the neighbourhoods edit their needs lists and adopt them by vote
    for council, lines in ((north, [(bread, 150, 2), (flour, 50, 1), (flour, 60, 1)]), (south, [(bread, 120, 1)])):
        member = members_of(council)[1]
        for product, quantity, priority in lines:
            ok(api(member)("put", f"/councils/{council.slug}/needs/draft/{product}", {"quantity": quantity, "priority": priority}))
    ok(api(members_of(north)[2])("put", f"/councils/{north.slug}/needs/draft/{flour}", {"quantity": 50}))
    draft = ok(api()("get", f"/councils/{north.slug}/needs/draft"))
    assert sorted((d["name"], d["quantity"]) for d in draft) == [("bread", 150), ("flour", 50)]
    for council in (north, south):
        vote = ok(api(members_of(council)[1])("post", f"/councils/{council.slug}/needs/proposals", {}), 201)
        assert vote["kind"] == "needs" and vote["payload"]
        members_vote(clock, members_of, vote["id"], council)
        clock.set(when(vote["voting_ends"]) + timedelta(seconds=1))
        assert ok(api()("get", f"/councils/{council.slug}/needs"))
    assert {n["name"]: n["quantity"] for n in ok(api()("get", f"/councils/{north.slug}/needs"))} == {"bread": 150, "flour": 50}

    # the federation opens a plan period by its mandated vote
    proposed = ok(api(members_of(south)[0])("post", f"/federations/{fed}/plan-periods", {
        "title": "Spring", "aim": "maxmin", "max_rounds": 5, "round_length_hours": 12}), 201)
    assert proposed["kind"] == "plan_period" and proposed["payload"]["aim"] == "maxmin"
    mandated_vote(clock, members_of, everyone, proposed["mandates"], proposed["voting_ends"])
    periods = ok(api()("get", f"/federations/{fed}/plan-periods"))
    assert len(periods) == 1 and periods[0]["status"] == "rounds" and periods[0]["opening_proposal"] == proposed["id"]
    url = f"/federations/{fed}/plan-periods/{periods[0]['id']}"
    period = ok(api()("get", url))
    assert period["progress"]["computing"] and period["latest_round"] is None and period["result"] is None
    assert {p["slug"] for p in period["councils"]} == {x.slug for x in everyone}

    # the worker computes the rounds; the plan is put to each council
    assert work() >= 1
    period = ok(api()("get", url))
    assert period["status"] == "acceptance", period["status_reason"]
    rounds = ok(api()("get", f"{url}/rounds"))
    assert rounds and period["latest_round"] == rounds[-1]
    assert {p["name"] for p in rounds[-1]["products"]} == {"flour", "bread"}
    assert period["result"]["aim"] == "maxmin" and period["result"]["gap"] is not None
    assert {p["council"] for p in period["parts"]} == {x.slug for x in everyone}
    assert all(p["status"] == "voting" and p["vote"] for p in period["parts"])
    assert period["adoption"] is None

    # anyone downloads the economy file and can recompute
    download = api()("get", f"{url}/economy.json")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/json")
    assert "attachment" in download["Content-Disposition"]
    economy = economy_from_dict(json.loads(download.content))
    assert economy.product_names == ["flour", "bread"]

    # every council accepts its part with its members' ballots
    by_slug = {x.slug: x for x in everyone}
    for part in period["parts"]:
        members_vote(clock, members_of, part["vote"], by_slug[part["council"]])
    clock.set(max(when(ok(api()("get", f"/proposals/{p['vote']}"))["voting_ends"]) for p in period["parts"])
              + timedelta(seconds=1))
    period = ok(api()("get", url))
    assert period["status"] == "adoption" and {p["status"] for p in period["parts"]} == {"accepted"}
    assert period["adoption"] and len(period["adoption_mandates"]) == 4

    # the federation adopts the whole plan by a mandated vote
    adoption = ok(api()("get", f"/proposals/{period['adoption']}"))
    assert adoption["kind"] == "plan_adoption"
    mandated_vote(clock, members_of, everyone, period["adoption_mandates"], adoption["voting_ends"])
    period = ok(api()("get", url))
    assert period["status"] == "adopted" and period["adopted_at"]
    assert ok(api()("get", f"/proposals/{period['adoption']}"))["result"]["outcome"] == "adopted"
    entry = RecordEntry.objects.filter(chain=federation.record_chain, kind="plan.adopted").get()
    frozen = json.loads(entry.data_json)["plan"]  # the plan as the record froze it is the plan the API shows
    assert frozen["objective"] == pytest.approx(period["result"]["objective"])
    assert [w["capability"] for w in frozen["workplaces"]] == [w["capability"] for w in period["result"]["workplaces"]]
    assert [w["units"] for w in frozen["workplaces"]] == pytest.approx([w["units"] for w in period["result"]["workplaces"]])
    assert verify_all().ok


def test_a_rejected_part_sends_the_period_back_with_its_objection_on_the_page(
        clock, economy_world, open_period, work, members_of):
    world = economy_world
    period = open_period()
    work()
    url = f"/federations/{world.federation.slug}/plan-periods/{period.pk}"
    parts = {p["council"]: p for p in ok(api()("get", url))["parts"]}
    for council in world.councils:
        choice = "no" if council == world.south else "yes"
        members_vote(clock, members_of, parts[council.slug]["vote"], council, choice,
                     reason="we need more bread" if choice == "no" else "")
    clock.set(max(when(ok(api()("get", f"/proposals/{p['vote']}"))["voting_ends"]) for p in parts.values())
              + timedelta(seconds=1))
    shown = ok(api()("get", url))
    assert shown["status"] == "rounds" and shown["attempt"] == 2
    rejected = next(p for p in shown["parts"] if p["council"] == world.south.slug)
    assert rejected["status"] == "rejected" and "we need more bread" in rejected["objection"]
    assert next(c for c in shown["councils"] if c["slug"] == world.south.slug)["by_hand"]


def test_the_planning_delegate_answers_a_round_by_hand_through_the_api(clock, economy_world, open_period, work,
                                                                        members_of, decide):
    from councils.decisions.services import create_proposal

    world = economy_world
    mill, delegate = world.mill, members_of(world.mill)[2]
    now = clock.now()
    election = create_proposal(members_of(mill)[0], mill, kind="election", office="planning_delegate", title="Our planner",
                               options=[{"member": delegate.username}], decision_method="irv", deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))
    assert decide(election, {"ranking": [election.options.get().pk]}).outcome == "decided"
    period = open_period()
    base = f"/councils/{mill.slug}/plan-periods/{period.pk}"
    mode = ok(api(delegate)("put", f"{base}/mode", {"by_hand": True}))
    assert mode == {**mode, "by_hand": True, "council": mill.slug, "set_by": delegate.username}
    work()
    url = f"/federations/{world.federation.slug}/plan-periods/{period.pk}"
    shown = ok(api()("get", url))
    assert shown["round"] == 1 and shown["progress"]["waiting_for"] == [mill.pk] and shown["progress"]["round_ends"]
    row = next(c for c in shown["latest_round"]["councils"] if c["council"] == mill.pk)["rows"][0]
    key = str(row["capability"])
    answered = ok(api(delegate)("put", f"{base}/hand-proposal", {"quantities": {key: 320}}))
    assert answered["content"] == {key: 320} and answered["round"] == 1
    assert ok(api()("get", url))["progress"]["waiting_for"] == []
    work()
    rounds = ok(api()("get", f"{url}/rounds"))
    mill_row = next(c for c in rounds[-1]["councils"] if c["council"] == mill.pk)
    assert mill_row["by_hand"] and mill_row["rows"][0]["units"] == pytest.approx(320)


# ----- bad input ----------------------------------------------------------------------------------


def snapshot():
    return (RecordEntry.objects.count(),
            sorted(Capability.objects.values_list("council_id", "product_id", "labour", "capacity", "inputs_json")),
            sorted(WorkingHours.objects.values_list("council_id", "hours")),
            sorted(DraftNeed.objects.values_list("council_id", "product_id", "quantity", "priority")),
            sorted(Product.objects.values_list("pk", "name", "unit", "retired_at")),
            PlanPeriod.objects.count(), HandProposal.objects.count())


def refused(response, status, field=None):
    """A 4xx JSON body with a detail; a rule's refusal names its field, a schema's lists the location."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"]
    if field is not None:
        if isinstance(body["detail"], list):  # ninja's schema errors: the field is in the location
            assert any(field in [str(x) for x in error["loc"]] for error in body["detail"]), body
        else:
            assert body["field"] == field, body
    return body


@pytest.fixture
def actors(economy_world, members_of):
    world = economy_world
    return {"miller": api(members_of(world.mill)[1]), "neighbour": api(members_of(world.north)[1]),
            "delegate": api(world.delegate)}


BAD_CAPABILITIES = [
    ({"labour": "a lot", "capacity": 10}, 422, "labour"),
    ({"labour": 0.1}, 422, "capacity"),
    ({"labour": -0.1, "capacity": 10}, 422, "labour"),
    ({"labour": 0.1, "capacity": -1}, 422, "capacity"),
    ('{"labour": 0.1, "capacity": NaN}', 422, "capacity"),
    ('{"labour": Infinity, "capacity": 10}', 422, "labour"),
    ({"labour": 0.1, "capacity": 1e300}, 422, "capacity"),
    ({"labour": 0.1, "capacity": 10, "inputs": {"salt": 1}}, 422, "inputs['salt']"),
    ({"labour": 0.1, "capacity": 10, "inputs": {"bread": -1}}, 422, "inputs['bread']"),
    ({"labour": 0.1, "capacity": 10, "inputs": {"bread": "some"}}, 422, "bread"),
    ({"labour": 0.1, "capacity": 10, "inputs": ["bread"]}, 422, "inputs"),
    ("{not json", 400, None),
]


@pytest.mark.parametrize("body, status, field", BAD_CAPABILITIES)
def test_a_bad_capability_is_refused_naming_its_field_and_changes_nothing(economy_world, actors, body, status, field):
    world = economy_world
    before = snapshot()
    refused(actors["miller"]("put", f"/councils/{world.mill.slug}/capabilities/{world.flour.pk}", body), status, field)
    assert snapshot() == before


def test_an_unknown_product_is_refused_and_changes_nothing(economy_world, actors, make_council, members_of):
    world = economy_world
    before = snapshot()
    refused(actors["miller"]("put", f"/councils/{world.mill.slug}/capabilities/987654", {"labour": 1, "capacity": 1}),
            422, "product")
    refused(actors["neighbour"]("put", f"/councils/{world.north.slug}/needs/draft/987654", {"quantity": 1}), 422, "product")
    refused(actors["neighbour"]("delete", f"/councils/{world.north.slug}/needs/draft/987654"), 422, "product")
    refused(actors["miller"]("delete", f"/councils/{world.mill.slug}/capabilities/{world.bread.pk}"), 404)
    refused(api()("get", "/councils/no-such-council/capabilities"), 404)
    refused(api()("get", f"/federations/{world.mill.slug}/catalogue"), 404)  # a workplace has no catalogue
    # a product of another federation's catalogue is not the mill's to record
    from councils.assemblies.services import create_council
    from councils.economy.models import Product as P

    other = create_council(members_of(world.mill)[0], name="Hill Federation", kind="federation")
    foreign = P.objects.create(federation=other, name="wool", unit="kg", added_at=world.flour.added_at)
    before = snapshot()
    refused(actors["miller"]("put", f"/councils/{world.mill.slug}/capabilities/{foreign.pk}", {"labour": 1, "capacity": 1}),
            422, "product")
    assert snapshot() == before


BAD_IMPORTS = [
    ({"format": "csv", "content": "product,labour,capacity\nflour,0.1,100\nbread,0.5,-2\n"}, "row 3, column capacity"),
    ({"format": "csv", "content": "product,labour,capacity\nflour,abc,100\n"}, "row 2, column labour"),
    ({"format": "csv", "content": "product,labour,capacity\nrye,0.1,100\n"}, "row 2, column product"),
    ({"format": "csv", "content": "product,labour\nflour,0.1\n"}, None),
    ({"format": "csv", "content": "product,labour,capacity,inputs\nbread,0.5,10,salt=1\n"}, None),
    ({"format": "economy", "content": "{not json"}, "file"),
    ({"format": "economy", "content": '{"format": "something else"}'}, "format"),
    ({"format": "xlsx", "content": "product,labour,capacity\n"}, "format"),
    ({"format": "csv"}, "content"),
]


@pytest.mark.parametrize("body, field", BAD_IMPORTS)
def test_a_bad_import_names_the_row_and_column_and_records_nothing(economy_world, actors, body, field):
    world = economy_world
    before = snapshot()
    body_out = refused(actors["miller"]("post", f"/councils/{world.mill.slug}/capabilities/import", body), 422, field)
    if isinstance(body_out["detail"], str):
        assert body_out["field"]  # every import error says where to look
    assert snapshot() == before


def test_an_import_is_all_or_nothing(economy_world, actors):
    world = economy_world
    before = snapshot()
    content = "product,labour,capacity\nflour,0.2,900\nbread,0.5,10\n"  # the mill may record bread too...
    content += "flour,0.1,-5\n"  # ...but a bad third row refuses the whole file
    body = refused(actors["miller"]("post", f"/councils/{world.mill.slug}/capabilities/import",
                                    {"format": "csv", "content": content}), 422)
    assert body["field"].startswith("row 4")
    assert snapshot() == before


@pytest.mark.parametrize("body, status, field", [
    ({"hours": "many"}, 422, "hours"), ({"hours": -8}, 422, "hours"), ('{"hours": NaN}', 422, "hours"), ({}, 422, "hours"),
])
def test_bad_working_hours_are_refused(economy_world, actors, body, status, field):
    before = snapshot()
    refused(actors["miller"]("put", f"/councils/{economy_world.mill.slug}/working-hours", body), status, field)
    assert snapshot() == before


@pytest.mark.parametrize("body, field", [
    ({"quantity": "lots"}, "quantity"), ({"quantity": 0}, "quantity"), ({"quantity": -3}, "quantity"),
    ({"quantity": 5, "priority": 0}, "priority"), ({"quantity": 5, "priority": "high"}, "priority"),
    ({"quantity": 5, "priority": 1e7}, "priority"), ({}, "quantity"),
])
def test_a_bad_needs_line_is_refused(economy_world, actors, body, field):
    world = economy_world
    before = snapshot()
    refused(actors["neighbour"]("put", f"/councils/{world.north.slug}/needs/draft/{world.bread.pk}", body), 422, field)
    assert snapshot() == before


def test_needs_belong_to_neighbourhoods_and_capabilities_to_workplaces(economy_world, members_of):
    world = economy_world
    before = snapshot()
    refused(api(members_of(world.mill)[1])("put", f"/councils/{world.mill.slug}/needs/draft/{world.bread.pk}",
                                           {"quantity": 5}), 422, "council")
    refused(api(members_of(world.north)[1])("put", f"/councils/{world.north.slug}/capabilities/{world.bread.pk}",
                                            {"labour": 1, "capacity": 5}), 422, "council")
    refused(api(members_of(world.north)[1])("put", f"/councils/{world.north.slug}/working-hours", {"hours": 5}), 422, "council")
    assert snapshot() == before


def test_an_empty_needs_list_cannot_be_put_to_the_vote(economy_world, actors, members_of):
    world = economy_world
    for line in DraftNeed.objects.filter(council=world.north):
        ok(actors["neighbour"]("delete", f"/councils/{world.north.slug}/needs/draft/{line.product_id}"), 204)
    before = snapshot()
    refused(actors["neighbour"]("post", f"/councils/{world.north.slug}/needs/proposals", {}), 422, "needs")
    refused(actors["neighbour"]("post", f"/councils/{world.north.slug}/needs/proposals",
                                {"deliberation_ends": "yesterday"}), 422, "deliberation_ends")
    assert snapshot() == before


@pytest.mark.parametrize("body, field", [
    ({}, "add"),
    ({"add": [{"name": "flour", "unit": "kg"}]}, "add[0].name"),
    ({"add": [{"name": "", "unit": "kg"}]}, "add[0].name"),
    ({"add": [{"name": "oats"}]}, "unit"),
    ({"add": [{"name": "oats", "unit": "kg"}, {"name": "oats", "unit": "t"}]}, "add[1].name"),
    ({"retire": [987654]}, "retire[0]"),
    ({"retire": ["flour"]}, "retire"),
    ({"change": [{"product": 987654, "unit": "t"}]}, "change[0].product"),
    ({"add": [{"name": "oats", "unit": "kg"}], "mandates_due": "2000-01-01T00:00:00Z"}, None),
])
def test_a_bad_catalogue_change_is_refused(economy_world, actors, body, field):
    before = snapshot()
    proposals = RecordEntry.objects.filter(kind__startswith="proposal").count()
    refused(actors["delegate"]("post", f"/federations/{economy_world.federation.slug}/catalogue/proposals", body), 422, field)
    assert snapshot() == before and RecordEntry.objects.filter(kind__startswith="proposal").count() == proposals


@pytest.mark.parametrize("body, field", [
    ({}, "title"), ({"title": " "}, "title"), ({"title": "Spring", "aim": "best"}, "aim"),
    ({"title": "Spring", "max_rounds": 0}, "max_rounds"), ({"title": "Spring", "max_rounds": 101}, "max_rounds"),
    ({"title": "Spring", "max_rounds": "ten"}, "max_rounds"), ({"title": "Spring", "round_length_hours": -1}, "round_length_hours"),
    ({"title": "Spring", "round_length_hours": 0}, "round_length_hours"),
])
def test_bad_plan_period_terms_are_refused(economy_world, actors, body, field):
    before = snapshot()
    refused(actors["delegate"]("post", f"/federations/{economy_world.federation.slug}/plan-periods", body), 422, field)
    assert snapshot() == before


def test_a_second_period_while_one_is_in_progress_is_a_conflict(economy_world, open_period, actors):
    open_period()
    before = snapshot()
    refused(actors["delegate"]("post", f"/federations/{economy_world.federation.slug}/plan-periods", {"title": "Again"}), 409)
    assert snapshot() == before


def test_a_bad_hand_proposal_is_refused(clock, economy_world, open_period, work, members_of, decide):
    from councils.decisions.services import create_proposal

    world = economy_world
    north, delegate = world.north, members_of(world.north)[2]
    now = clock.now()
    election = create_proposal(members_of(north)[0], north, kind="election", office="planning_delegate", title="Our planner",
                               options=[{"member": delegate.username}], decision_method="irv", deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))
    decide(election, {"ranking": [election.options.get().pk]})
    period = open_period()
    client = api(delegate)
    base = f"/councils/{north.slug}/plan-periods/{period.pk}"
    needs = {n.product_id: str(n.pk) for n in north.needs.filter(ended_at__isnull=True)}
    full = {needs[world.bread.pk]: 100, needs[world.flour.pk]: 40}
    refused(client("put", f"{base}/hand-proposal", {"quantities": full}), 409)  # no round published yet
    refused(client("put", f"{base}/mode", {"by_hand": "perhaps"}), 422, "by_hand")
    refused(client("put", f"{base}/mode", {"by_hand": 1}), 422, "by_hand")
    ok(client("put", f"{base}/mode", {"by_hand": True}))
    work()
    before = snapshot()
    for quantities, field in [({}, "quantities"), ({**full, needs[world.bread.pk]: -1}, f"quantities[{needs[world.bread.pk]}]"),
                              ({**full, needs[world.bread.pk]: 10_000}, f"quantities[{needs[world.bread.pk]}]"),
                              ({**full, needs[world.bread.pk]: "some"}, needs[world.bread.pk]),
                              # issue 13: true was read as one unit, "5" as five
                              ({**full, needs[world.bread.pk]: True}, needs[world.bread.pk]),
                              ({**full, needs[world.bread.pk]: "5"}, needs[world.bread.pk]),
                              ({**full, "987654": 1}, "quantities[987654]")]:
        refused(client("put", f"{base}/hand-proposal", {"quantities": quantities}), 422, field)
    refused(client("put", f"/councils/{north.slug}/plan-periods/987654/mode", {"by_hand": False}), 404)
    refused(client("put", f"/councils/{world.mill.slug}/plan-periods/{period.pk}/mode", {"by_hand": False}), 403)
    assert snapshot() == before


def test_a_period_of_another_federation_or_none_is_not_found(economy_world, open_period, make_council):
    period = open_period()
    other = make_council(kind="federation")
    refused(api()("get", f"/federations/{other.slug}/plan-periods/{period.pk}"), 404)
    refused(api()("get", f"/federations/{economy_world.federation.slug}/plan-periods/987654"), 404)
    refused(api()("get", f"/federations/{economy_world.federation.slug}/plan-periods/987654/economy.json"), 404)


def test_the_openapi_document_builds_and_lists_the_economy(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/federations/{slug}/catalogue", "/api/councils/{slug}/capabilities/{product_id}",
                 "/api/councils/{slug}/capabilities/import", "/api/councils/{slug}/needs/draft/{product_id}",
                 "/api/federations/{slug}/plan-periods/{period_id}", "/api/councils/{slug}/plan-periods/{period_id}/hand-proposal"]:
        assert path in paths
