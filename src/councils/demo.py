"""The demo federation, built the way members would build it: through the services and the planning worker,
with the clock moved through six weeks."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from councils.accounts.signing import make_demo_keys
from councils import clock
from councils.assemblies.models import Council
from councils.assemblies.services import create_council, join_council
from councils.federation import congress as congresses
from councils.federation import petitions
from councils.federation.models import Congress, Petition
from councils.federation.services import charter_of
from councils.federation.services import create_federation_proposal, current_delegates, open_recall_petition
from councils.decisions.models import Proposal
from councils.decisions.services import (
    add_comment,
    appeal_hidden_comment,
    call_fallback_round,
    cast_ballot,
    create_proposal,
    current_officers,
    hide_comment,
    move_amendment,
    report_content,
    settle_due,
)
from councils.economy.models import PeriodStatus, PlanPeriod
from councils.economy.services import (
    PLANNING_MATTER,
    catalogue,
    current_needs,
    import_capabilities,
    propose_catalogue_change,
    propose_needs,
    propose_plan_period,
    record_capability,
    record_working_hours,
    set_draft_need,
    set_planning_mode,
    submit_hand_proposal,
)
from councils.economy.worker import work_once
from councils.economy.models import EconomyKind

# The demo replays weeks of a federation's life in a few seconds, with votes of hours: its councils' charters say so
# explicitly. A council founded without saying otherwise gets the default floors (two days' deliberation, one day's
# voting), which no author or officer can go under.
DEMO_FLOORS = {"min_deliberation_period": timedelta(0), "min_voting_period": timedelta(0)}

DEMO_FEDERATION = "Demo Federation"
DEMO_PASSWORD = "solidarity-demo"
NAMES = [
    "ana", "bruno", "carmen", "dmitri", "esther", "farid", "grace", "hugo", "ines", "jonas",
    "kemal", "lena", "mateo", "nadia", "oscar", "priya", "quentin", "rosa", "samir", "tove",
    "ugo", "vera", "wanjiru", "xavier", "yara", "zoltan", "amara", "bao", "chloe", "diego",
]


def demo_loaded() -> bool:
    return Council.objects.filter(name=DEMO_FEDERATION, kind="federation").exists()


def load_demo() -> bool:
    """Create the demo once. Returns False when it is already there."""
    if demo_loaded():
        return False
    real_now = clock.now().replace(microsecond=0)
    with transaction.atomic(), clock.frozen(real_now - timedelta(days=45)) as time:
        # One Argon2 hash for all: the password is public anyway, and thirty
        # deliberate half-second hashes would only slow the first start.
        encoded = make_password(DEMO_PASSWORD)
        users = [get_user_model().objects.create(username=name, email=f"{name}@example.org", password=encoded) for name in NAMES]
        # Demo members' keys are made here and held by this server (DATA_DIR/demo-keys.json), so the demo's acts are
        # signed and the whole demo verifies remotely; the pages say so. A member who makes a key signs with it instead.
        make_demo_keys(users)
        bakery_members, street_members, farm_members = users[:10], users[10:20], users[20:]
        day = timedelta(days=1)
        bakery = create_council(
            users[0], name="Riverside Bakery Workers' Council", kind="workplace",
            description="The bakers, drivers and counter staff of the Riverside bakery.",
            charter={**DEMO_FLOORS, "deliberation_period": day, "voting_period": 2 * day},
        )
        street = create_council(
            users[10], name="Northside Neighbourhood Council", kind="neighbourhood",
            description="Residents of the Northside blocks.",
            charter={**DEMO_FLOORS, "quorum": "0.3", "deliberation_period": day, "voting_period": 2 * day, "consensus_fallback": "0.75"},
        )
        farm = create_council(
            users[20], name="Valley Farms Agricultural Council", kind="agricultural",
            description="Growers of the valley co-operative farms. New members are admitted by the members' vote.",
            charter={**DEMO_FLOORS, "admission": "vote", "decision_method": "two_thirds", "deliberation_period": day, "voting_period": day},
        )
        for member in bakery_members[1:]:
            join_council(member, bakery)
        for member in street_members[1:]:
            join_council(member, street)
        # Admission by vote: each request opens a vote the current members decide.
        for applicant in farm_members[1:]:
            request = join_council(applicant, farm)
            for voter in farm.memberships.filter(left_at__isnull=True):
                cast_ballot(voter.member, request, "yes")
            time.advance(days=1, minutes=1)
            settle_due(farm)

        federation = create_council(
            users[0], name=DEMO_FEDERATION, kind="federation",
            description="The workplaces, neighbourhoods and farms of the valley, federated by their own decisions.",
            # A small valley: its councils vote their mandates within two days, and the federation counts them within one.
            charter={**DEMO_FLOORS, "voting_period": day},
            federation_charter={"competences": ["bread and flour", "transport", "shared equipment", PLANNING_MATTER],
                                "convocation_share": "0.5", "mandate_period": 2 * day},
        )
        affiliations = []
        for council, members in ((bakery, bakery_members), (street, street_members), (farm, farm_members)):
            affiliations.append((create_proposal(
                members[1], council, kind="affiliation", federation=federation, title=f"Join the {DEMO_FEDERATION}",
                body="We join the federation to coordinate production and needs with our neighbours. We can leave by our own vote at any time.",
            ), members))
        time.advance(days=1, minutes=1)
        for proposal, members in affiliations:
            for i, member in enumerate(members):
                cast_ballot(member, proposal, "no" if i == 9 else "yes")
        time.advance(days=2)
        settle_due(None)
        delegates = _federation_business(time, federation, ((bakery, bakery_members), (street, street_members), (farm, farm_members)))
        _convene_congress(time, real_now, federation, ((bakery, bakery_members), (farm, farm_members)))

        decided = create_proposal(
            bakery_members[2], bakery, title="Move to a four-day week from next month",
            body="We bake the same bread in **four longer days** and rotate the early shift.\n\n"
                 "- rotation decided each month by the council\n- no loss of pay",
        )
        add_comment(bakery_members[5], decided, "The drivers agree, if the Monday round moves to Tuesday.")
        amendment = move_amendment(bakery_members[3], decided, passage="no loss of pay",
                                   replacement="no loss of pay, and a paid half hour for each shift handover",
                                   reason="Longer days need a proper handover.")
        for i, member in enumerate(bakery_members):
            cast_ballot(member, amendment, "no" if i in (2, 8) else "yes")
        time.advance(days=1, minutes=1)
        for i, member in enumerate(bakery_members):
            cast_ballot(member, decided, ["yes", "yes", "no", "yes", "abstain", "yes", "yes", "no", "yes", "yes"][i])
        cast_ballot(bakery_members[7], decided, "yes")  # a changed vote
        rejected = create_proposal(
            street_members[3], street, title="Close Elm Street to cars on Saturdays",
            body="A market and a playground every Saturday, 8:00 to 18:00.",
        )
        no_quorum = create_proposal(
            farm_members[4], farm, title="Buy a shared seed drill",
            body="One seed drill for the three farms, kept at the upper barn.",
        )
        time.advance(days=1, minutes=1)
        for i, member in enumerate(street_members[:7]):
            cast_ballot(member, rejected, "yes" if i < 3 else "no")
        cast_ballot(farm_members[4], no_quorum, "yes")

        # An election, an approval vote, a secret ballot and a consensus with its second round.
        election = create_proposal(
            bakery_members[1], bakery, kind="election", office="facilitator", title="Elect our facilitator",
            body="The facilitator schedules our meetings and moderates; one year, recallable.",
            options=[{"member": m.username} for m in bakery_members[3:6]], deliberation_ends=time.now(),
            voting_ends=time.now() + timedelta(days=2),
        )
        ids = {o.label: o.pk for o in election.options.all()}
        names = [m.username for m in bakery_members[3:6]]
        orders = [[0, 1], [1, 0], [2, 1], [1], [0, 2], [1, 2], [2, 0], [1, 0], [0, 1], [2, 1]]
        for member, order in zip(bakery_members, orders):
            cast_ballot(member, election, {"ranking": [ids[names[i]] for i in order]})
        market = create_proposal(
            street_members[2], street, title="Which day for the street market?", decision_method="approval",
            options=["Saturday", "Sunday", "Wednesday evening"], deliberation_ends=time.now(),
            voting_ends=time.now() + timedelta(days=2),
        )
        days = {o.label: o.pk for o in market.options.all()}
        approvals = [["Saturday"], ["Saturday", "Sunday"], ["Wednesday evening"], ["Sunday"], ["Saturday", "Wednesday evening"],
                     ["Saturday"], ["Sunday", "Saturday"], ["Wednesday evening", "Sunday"]]
        for member, approved in zip(street_members, approvals):
            cast_ballot(member, market, {"approvals": [days[d] for d in approved]})
        tractor = create_proposal(
            farm_members[0], farm, title="Rotate the tractor weekly between the farms", secret=True,
            deliberation_ends=time.now(), voting_ends=time.now() + timedelta(days=1),
        )
        for i, member in enumerate(farm_members):
            cast_ballot(member, tractor, "no" if i % 4 == 3 else "yes")
        courtyard = create_proposal(
            street_members[0], street, title="House rules for the courtyard", decision_method="consensus",
            body="Quiet after 22:00; bicycles along the east wall; the council cleans it monthly.",
            deliberation_ends=time.now(), voting_ends=time.now() + timedelta(days=1),
        )
        for i, member in enumerate(street_members):
            if i == 6:
                cast_ballot(member, courtyard, {"choice": "block", "reason": "Night-shift workers need the courtyard after 22:00."})
            else:
                cast_ballot(member, courtyard, "stand_aside" if i == 7 else "agree")
        time.advance(days=1, minutes=1)
        settle_due(street)
        second = call_fallback_round(street_members[1], courtyard)
        for i, member in enumerate(street_members):
            if i == 6:
                cast_ballot(member, second, {"choice": "block", "reason": "Still no."})
            else:
                cast_ballot(member, second, "agree")
        time.advance(days=3)
        _promises(time, federation, ((bakery, bakery_members), (street, street_members), (farm, farm_members)), delegates)
        _economy(time, real_now, federation, delegates, bakery, street, farm, bakery_members, street_members, farm_members, encoded)

    # The past took its time to write (a minute or more on a busy machine): the open business starts from the present.
    real_now = max(real_now, clock.now().replace(microsecond=0))
    settle_due(None, real_now)
    # Open business, on the real clock: read again, since building the past can take more than a minute on a busy
    # machine, and a vote cannot open in the past.
    real_now = clock.now().replace(microsecond=0)
    with transaction.atomic():
        open_question = create_federation_proposal(
            delegates[street].member, federation, title="Pool the farms' trucks for one delivery round", matter="transport",
            body="One round a day through the valley instead of three half-empty ones.",
            mandates_due=real_now + timedelta(days=2), voting_ends=real_now + timedelta(days=3),
        )
        for council, members, votes in ((bakery, bakery_members, "yyyynyy"), (street, street_members, "yyn")):
            mandate = open_question.mandates.get(council=council)
            for member, vote in zip(members, votes):
                cast_ballot(member, mandate, "yes" if vote == "y" else "no")
        open_recall_petition(bakery_members[6], delegates[bakery],
                             "Our delegate voted for the mill's rota before our council had decided its mandate.")
        voting = create_proposal(
            bakery_members[0], bakery, title="Elect a second delivery coordinator",
            body="Deliveries doubled since the neighbourhood joined; one coordinator is not enough.",
            deliberation_ends=real_now, voting_ends=real_now + timedelta(days=3),
        )
        for member in bakery_members[1:5]:
            cast_ballot(member, voting, "yes")
        _congress_in_session(federation, delegates, ((bakery, bakery_members), (street, street_members), (farm, farm_members)),
                             open_question)
        create_proposal(
            street_members[1], street, title="A community kitchen in the old library",
            body="The library building is empty since spring. We propose a **community kitchen** run by the council.",
        )
        create_proposal(
            farm_members[2], farm, title="Share the cold store with the bakery",
            body="The bakery asked to use our cold store for butter and cream.",
            deliberation_ends=real_now, voting_ends=real_now + timedelta(days=2),
        )
        crop = create_proposal(
            farm_members[1], farm, title="Which crop for the east field?", decision_method="schulze",
            options=["Potatoes", "Buckwheat", "Clover (rest the soil)", "Barley"],
            deliberation_ends=real_now, voting_ends=real_now + timedelta(days=4),
        )
        crops = {o.label: o.pk for o in crop.options.all()}
        cast_ballot(farm_members[3], crop, {"ranking": [crops["Clover (rest the soil)"], [crops["Buckwheat"], crops["Barley"]]]})
        create_proposal(
            bakery_members[4], bakery, kind="election", office="secretary", seats=2, title="Elect two secretaries",
            body="Two secretaries share the minutes and the record.",
            options=[{"member": m.username} for m in bakery_members[5:9]],
            deliberation_ends=real_now, voting_ends=real_now + timedelta(days=3),
        )
        create_proposal(
            street_members[4], street, title="Rate the playground designs", decision_method="score", max_score=5,
            options=["Wooden ship", "Climbing wall", "Sand and water garden"],
            deliberation_ends=real_now, voting_ends=real_now + timedelta(days=5),
        )
    return True


def _promises(time, federation, councils, delegates):
    """A charter changed by the council's own vote, a hidden comment and its appeal, and a federation decision that
    the members overruled by referendum (its page says so, and the competences it added are gone again)."""
    (bakery, bakery_members), (street, street_members), (farm, farm_members) = councils
    settle_due(None)
    # The street council changes its own charter, by its charter's own supermajority (two thirds).
    charter = create_proposal(
        street_members[0], street, kind="charter", title="A quorum of one third, and secret ballots",
        body="Neighbours asked for secret ballots on matters between neighbours, and a higher quorum.",
        payload={"quorum": "0.333", "secret_ballots": True}, deliberation_ends=time.now(),
        voting_ends=time.now() + timedelta(days=1),
    )
    for i, member in enumerate(street_members):
        cast_ballot(member, charter, "no" if i in (4, 9) else "yes")
    # A rude comment in the bakery: a member reports it, the facilitator hides it, its author appeals, the council decides.
    facilitator = next(o.holder for o in current_officers(bakery) if o.role == "facilitator")
    week = Proposal.objects.get(council=bakery, title="Move to a four-day week from next month")
    rude = add_comment(bakery_members[8], week, "Whoever voted no is lazy, and I know where you live.")
    report_content(bakery_members[6], comment=rude, reason="A threat against the members who voted no.")
    hide_comment(facilitator, rude, "A threat against members for how they voted.")
    appeal = appeal_hidden_comment(bakery_members[8], rude)
    for i, member in enumerate(bakery_members):
        cast_ballot(member, appeal, "yes" if i == 8 else "no")
    # The delegates' congress adds "housing" to the federation's competences; the members overrule it by referendum.
    housing = create_federation_proposal(
        delegates[bakery].member, federation, title="Add housing to the federation's competences", kind="competences",
        competences=["bread and flour", "transport", "shared equipment", PLANNING_MATTER, "housing"],
        body="Let the federation allocate the empty flats in the valley.",
        mandates_due=time.now() + timedelta(days=1), voting_ends=time.now() + timedelta(days=2),
    )
    members_of = dict((council.pk, members) for council, members in councils)
    _mandates(housing, members_of)
    time.advance(days=2, minutes=1)
    settle_due(None)
    petition = petitions.open_petition(
        farm_members[3], federation, kind="referendum", title="Housing stays with the neighbourhoods",
        body="Flats are allocated by the neighbourhood councils that live there, not by the federation.",
        target=housing,
    )
    for member in (farm_members[3], street_members[5], bakery_members[4]):
        petitions.sign_petition(member, petition)
    petition.refresh_from_db()
    referendum = petition.result
    time.set(referendum.deliberation_ends + timedelta(minutes=1))
    for i, member in enumerate(bakery_members + street_members + farm_members):
        if i % 5 != 4:
            cast_ballot(member, referendum, "no" if i % 3 else "yes")
    time.set(referendum.voting_ends + timedelta(minutes=1))
    settle_due(None)


def _federation_business(time, federation, councils):
    """Each council elects its delegate; one question goes through every council's mandate; a congress is demanded."""
    elections = []
    for council, members in councils:
        election = create_proposal(
            members[2], council, kind="delegate_election", federation=federation, title=f"Elect our delegate to the {DEMO_FEDERATION}",
            body="One seat, one year, recallable at any time.", options=[{"member": m.username} for m in members[:2]],
            deliberation_ends=time.now(), voting_ends=time.now() + timedelta(days=1),
        )
        ids = [o.pk for o in election.options.order_by("position")]
        for i, member in enumerate(members):
            cast_ballot(member, election, {"ranking": ids if i % 3 else ids[::-1]})
        elections.append(election)
    time.advance(days=1, minutes=1)
    settle_due(None)
    delegates = {council: current_delegates(council, federation).get() for council, _ in councils}
    (bakery, bakery_members), (street, street_members), (farm, farm_members) = councils
    mill = create_federation_proposal(
        delegates[bakery].member, federation, title="Run the old mill as the valley's shared flour mill", matter="bread and flour",
        body="The farms deliver grain, the bakery takes flour; the mill's rota is set by the three councils.",
        mandates_due=time.now() + timedelta(days=2), voting_ends=time.now() + timedelta(days=3),
    )
    for (council, members), votes in zip(councils, ("yyyyyyynyy", "yynyyyny", "yynyyyyyyn")):
        mandate = mill.mandates.get(council=council)
        for member, vote in zip(members, votes):
            cast_ballot(member, mandate, "yes" if vote == "y" else "no")
    congress = petitions.open_petition(street_members[3], federation, kind="convocation", title="A congress on the winter plan",
                                       body="Heating, stores and transport for the winter need all three councils at one table.")
    demand = create_proposal(street_members[3], street, kind="convocation", federation=federation, petition=congress,
                             title="Demand a congress on the winter plan", deliberation_ends=time.now(),
                             voting_ends=time.now() + timedelta(days=1))
    for i, member in enumerate(street_members):
        cast_ballot(member, demand, "no" if i == 5 else "yes")
    return delegates


# The congress on the winter plan opened this long before the demo is loaded: it is in session for a visitor.
CONGRESS_OPENED_AGO = timedelta(hours=3)


def _convene_congress(time, real_now, federation, councils):
    """Two more councils back Northside's petition for a congress, each by its own vote. Their votes stay open until
    the moment that, with the charter's convocation delay, brings the congress into session a few hours before the
    demo's present; they close and convene it by themselves, whatever else the demo does meanwhile."""
    petition = Petition.objects.get(federation=federation, kind="convocation", title="A congress on the winter plan")
    closes = real_now - CONGRESS_OPENED_AGO - charter_of(federation).convocation_delay
    for council, members in councils:
        demand = create_proposal(members[3], council, kind="convocation", federation=federation, petition=petition,
                                 title="Back the congress on the winter plan", deliberation_ends=time.now(),
                                 voting_ends=closes,
                                 body="Our vote stays open until the congress can meet before the winter plan is voted.")
        _vote(members, demand, "y" * 7)


def _congress_in_session(federation, delegates, councils, trucks):
    """The congress on the winter plan, on the real clock: delegates present, an agenda of two items, the speakers
    list, minutes put to the delegates' live vote."""
    congress = Congress.objects.filter(federation=federation, title__icontains="winter plan").first()
    if congress is None:
        raise RuntimeError("demo: the councils' petition did not convene the congress on the winter plan")
    (bakery, bakery_members), (street, street_members), (farm, farm_members) = councils
    chair, *others = [delegates[farm].member, delegates[bakery].member, delegates[street].member]
    for person in (chair, *others):
        congresses.register_attendance(person, congress)
    congresses.add_to_agenda(chair, congress, trucks)
    congresses.advance_agenda(chair, congress)
    congresses.request_to_speak(others[1], congress)
    congresses.request_to_speak(street_members[5], congress)
    congresses.next_speaker(chair, congress, limit_seconds=300)
    congresses.next_speaker(chair, congress, limit_seconds=300)
    congresses.write_minutes(chair, congress, (
        f"{chair.username} (Valley Farms) chairs; the delegates of the three founding councils are present.\n\n"
        "1. *Pool the farms' trucks for one delivery round*: Northside asked for Saturday deliveries to be kept; the "
        "mandates of the councils are still being voted.\n"
        "2. These minutes, put to the delegates present."))
    minutes = congresses.submit_minutes(chair, congress)
    congresses.add_to_agenda(chair, congress, minutes)
    congresses.advance_agenda(chair, congress)
    congresses.request_to_speak(others[0], congress)
    congresses.request_to_speak(bakery_members[5], congress)
    congresses.next_speaker(chair, congress, limit_seconds=180)
    congresses.vote_on_minutes(chair, congress, "yes")
    congresses.vote_on_minutes(others[0], congress, "yes")
    return congress


MILL_NAMES = ["emil", "fatima", "gabriel", "hana"]
SOUTH_NAMES = ["ivan", "julia", "kofi", "lucia", "mei"]
FIRST_PLAN, SECOND_PLAN = "Autumn bread and vegetables", "Winter bread and vegetables"
# The farm records its capabilities from a spreadsheet, the mill from the planning engine's economy file.
FARM_CSV = "product,labour,capacity,inputs\ngrain,0.05,20000,\nvegetables,0.1,7000,transport=0.01\n"
MILL_ECONOMY = {
    "format": "councils-economy", "version": 1,
    "products": [{"name": "grain", "unit": "kg"}, {"name": "flour", "unit": "kg"}],
    "workplaces": [{"name": "old mill", "product": "flour", "labour": 0.02, "capacity": 7000, "inputs": {"grain": 1.3}}],
    "needs": [], "labour_budget": 0,
}


def _vote(members, proposal, votes=None, reasons=None):
    """The first members vote: votes[i] is y(es), n(o) or a(bstain); by default three in five vote yes.

    reasons[i] goes with member i's ballot (the reasons of the no votes make a rejected part's objection).
    """
    votes = votes or "y" * max(3, round(0.6 * len(members)))
    reasons = reasons or {}
    for i, (member, vote) in enumerate(zip(members, votes)):
        choice = {"y": "yes", "n": "no", "a": "abstain"}[vote]
        cast_ballot(member, proposal, {"choice": choice, "reason": reasons[i]} if i in reasons else choice)


def _mandates(proposal, members_of, votes=None):
    """Every member council votes its mandate on a federation proposal."""
    votes = votes or {}
    for mandate in proposal.mandates.select_related("council"):
        _vote(members_of[mandate.council_id], mandate, votes.get(mandate.council_id))


def _elect(time, council, members, office, candidates, title, body, rankings):
    election = create_proposal(
        members[0], council, kind="election", office=office, title=title, body=body,
        options=[{"member": m.username} for m in candidates], deliberation_ends=time.now(),
        voting_ends=time.now() + timedelta(days=1),
    )
    ids = [o.pk for o in election.options.order_by("position")]
    for member, order in zip(members, rankings):
        cast_ballot(member, election, {"ranking": [ids[i] for i in order]})
    return election


def _work(expected, period):
    """One pass of the background worker, as `councils worker` runs every second; the period must reach ``expected``."""
    work_once()
    period.refresh_from_db()
    if period.status != expected:
        raise RuntimeError(f"demo economy: {period.title} is {period.status}, not {expected}: {period.status_reason}")
    return period


def _economy(time, real_now, federation, delegates, bakery, street, farm, bakery_members, street_members, farm_members, password):
    """A small economy: a catalogue, capabilities and needs, one plan adopted and one in its rounds now.

    Everything goes through the services and the worker, as members would do it;
    the adopted plan is in the record, and the second period's revision window
    is open on the real clock, so a visitor can revise the bakery's proposal.
    """
    day = timedelta(days=1)
    User = get_user_model()
    mill_members = [User.objects.create(username=n, email=f"{n}@example.org", password=password) for n in MILL_NAMES]
    south_members = [User.objects.create(username=n, email=f"{n}@example.org", password=password) for n in SOUTH_NAMES]
    make_demo_keys(mill_members + south_members)
    # The federation decided to run the old mill; its workers form their council and join.
    mill = create_council(
        mill_members[0], name="Old Mill Workers' Council", kind="workplace",
        description="The millers of the valley's shared flour mill, run since the federation decided it.",
        charter={**DEMO_FLOORS, "deliberation_period": day, "voting_period": day},
    )
    south = create_council(
        south_members[0], name="Southside Neighbourhood Council", kind="neighbourhood",
        description="Residents of the Southside streets and the school kitchen.",
        charter={**DEMO_FLOORS, "deliberation_period": day, "voting_period": day},
    )
    for council, members in ((mill, mill_members), (south, south_members)):
        for member in members[1:]:
            join_council(member, council)
        _vote(members, create_proposal(
            members[1], council, kind="affiliation", federation=federation, title=f"Join the {DEMO_FEDERATION}",
            body="We join to plan our production and our needs with the valley.",
            deliberation_ends=time.now(), voting_ends=time.now() + day,
        ))
    members_of = {bakery.pk: bakery_members, street.pk: street_members, farm.pk: farm_members,
                  mill.pk: mill_members, south.pk: south_members}
    # Workplace roles: elected like any office, recalled by electing someone else; no power over the votes.
    elections = [
        (bakery, bakery_members, "planning_delegate", bakery_members[:3:2], "Elect our delegate to the federation's planning",
         "Chooses each round whether our rule answers or we revise by hand, and types our revisions. One year, recallable.",
         [[0, 1]] * 4 + [[1, 0]] * 2),
        (bakery, bakery_members, "coordinator", bakery_members[3:5], "Elect our production coordinator",
         "Keeps the ovens' rota and the capabilities we record up to date; no say over our votes.",
         [[1, 0]] * 4 + [[0, 1]] * 2),
        (street, street_members, "planning_delegate", street_members[2:4], "Elect our delegate to the federation's planning",
         "Follows the rounds and revises our needs by hand when the council asks.", [[0, 1]] * 4 + [[1]]),
        (farm, farm_members, "planning_delegate", farm_members[5:7], "Elect our delegate to the federation's planning",
         "Follows the plan periods for the farms.", [[0, 1]] * 6),
        (mill, mill_members, "coordinator", mill_members[1:3], "Elect our coordinator", "Keeps the mill's rota.",
         [[0, 1], [0, 1], [1, 0], [0]]),
        (south, south_members, "planning_delegate", south_members[1:3], "Elect our delegate to the federation's planning",
         "Speaks for the school kitchen's needs in the rounds.", [[0, 1]] * 3 + [[1, 0]]),
    ]
    for council, members, office, candidates, title, body, rankings in elections:
        _elect(time, council, members, office, candidates, title, body, rankings)
    catalogue_vote = propose_catalogue_change(
        delegates[bakery].member, federation, title="Start our catalogue for production planning",
        body="The products we plan together, each with the unit we count it in.",
        add=[{"name": "grain", "unit": "kg", "description": "Wheat and rye from the valley farms."},
             {"name": "flour", "unit": "kg", "description": "Milled at the old mill."},
             {"name": "bread", "unit": "loaf", "description": "An 800 g loaf."},
             {"name": "vegetables", "unit": "kg", "description": "Seasonal vegetables."},
             {"name": "transport", "unit": "km", "description": "Delivery rounds with the bakery's vans."}],
        mandates_due=time.now() + day, voting_ends=time.now() + day + timedelta(hours=1),
    )
    _mandates(catalogue_vote, members_of)
    time.advance(days=1, hours=2)
    settle_due(None)
    if not catalogue(federation).exists():
        raise RuntimeError("demo economy: the catalogue was not adopted")

    # The new councils elect their delegates. Each council records its own part of the economy: the bakery one
    # product at a time (as the form does), the farm from a spreadsheet, the mill from an economy file.
    for council, members in ((mill, mill_members), (south, south_members)):
        election = create_proposal(
            members[2], council, kind="delegate_election", federation=federation, title=f"Elect our delegate to the {DEMO_FEDERATION}",
            body="One seat, recallable at any time.", options=[{"member": members[0].username}],
            deliberation_ends=time.now(), voting_ends=time.now() + day,
        )
        candidate = election.options.get().pk
        for member in members:
            cast_ballot(member, election, {"ranking": [candidate]})
    record_capability(bakery_members[4], bakery, product="bread", labour=0.15, capacity=8000,
                      inputs={"flour": 0.5, "transport": 0.02})
    record_capability(bakery_members[4], bakery, product="transport", labour=0.1, capacity=2000)
    record_working_hours(bakery_members[4], bakery, 1500)
    import_capabilities(farm_members[6], farm, FARM_CSV, fmt="csv")
    record_working_hours(farm_members[6], farm, 1000)
    import_capabilities(mill_members[1], mill, json.dumps(MILL_ECONOMY), fmt="economy")
    record_working_hours(mill_members[1], mill, 200)
    for council, members, lines in (
        (street, street_members, [("bread", 5000, 3), ("vegetables", 3500, 2), ("flour", 600, 1), ("transport", 300, 1)]),
        (south, south_members, [("bread", 3500, 3), ("vegetables", 3000, 3), ("transport", 200, 1)]),
    ):
        for product, quantity, priority in lines:
            set_draft_need(members[1], council, product=product, quantity=quantity, priority=priority)
        _vote(members, propose_needs(members[1], council, body="What our households and kitchens need this period.",
                                     deliberation_ends=time.now(), voting_ends=time.now() + day))
    time.advance(days=1, hours=1)
    settle_due(None)
    if not (current_needs(street).exists() and current_needs(south).exists()):
        raise RuntimeError("demo economy: the needs lists were not adopted")

    # The first plan period: opened by the councils' mandates, its rounds computed by the worker.
    opening = propose_plan_period(
        delegates[farm].member, federation, title=FIRST_PLAN, aim="weighted", max_rounds=6, round_length_hours=24,
        body="Plan the autumn's grain, flour, bread, vegetables and deliveries together.",
        mandates_due=time.now() + day, voting_ends=time.now() + day + timedelta(hours=1),
    )
    _mandates(opening, members_of)
    time.advance(days=1, hours=2)
    settle_due(None)
    period = _work(PeriodStatus.ACCEPTANCE, PlanPeriod.objects.get(opened_by__proposal=opening))
    # The ovens cannot bake all the bread asked for, and the plan puts the whole shortfall on Northside, which
    # rejects its part: the objection is published and the period goes back into rounds. Nobody can bake more,
    # so the plan comes back the same, and Northside accepts it the second time.
    _vote_parts(time, period, members_of, {street.pk: "nnynnny"}, {street.pk: {
        0: "The whole bread shortfall falls on Northside, while Southside gets every loaf it asked for.",
        3: "Share the shortfall between the neighbourhoods, or ask the bakery whether a second oven is possible.",
    }})
    _work(PeriodStatus.ROUNDS, period)
    time.set(period.round_ends + timedelta(minutes=1))
    _work(PeriodStatus.ACCEPTANCE, period)
    _vote_parts(time, period, members_of, {street.pk: "yyynya", bakery.pk: "yyyyyn"}, {street.pk: {
        0: "The ovens are full this autumn; we asked the federation to look at a second oven for the winter.",
    }})
    _work(PeriodStatus.ADOPTION, period)
    adoption = period.votes.get(kind=EconomyKind.PLAN_ADOPTION)
    _mandates(adoption, members_of, {south.pk: "yyyn"})
    time.set(adoption.voting_ends + timedelta(minutes=1))
    settle_due(None)
    period.refresh_from_db()
    if period.status != PeriodStatus.ADOPTED:
        raise RuntimeError(f"demo economy: {period.title} is {period.status}: {period.status_reason}")

    # Winter: the farm records its smaller greenhouse harvest, and a second period opens on the economy as recorded
    # then. The bakery's planning delegate answers by hand (an oven is being relined); the revision window after the
    # last round is open on the real clock, for a visitor to revise the bakery's proposal again.
    time.set(max(time.now(), real_now - timedelta(days=5)))
    record_capability(farm_members[6], farm, product="vegetables", labour=0.1, capacity=5000, inputs={"transport": 0.01})
    opening = propose_plan_period(
        delegates[street].member, federation, title=SECOND_PLAN, aim="weighted", max_rounds=8, round_length_hours=72,
        body="The winter period. Three days for each round's revisions, so that every council can meet.",
        mandates_due=time.now() + day, voting_ends=time.now() + day + timedelta(hours=1),
    )
    _mandates(opening, members_of, {farm.pk: "yyyyny"})
    time.advance(days=1, hours=2)
    settle_due(None)
    period = PlanPeriod.objects.get(opened_by__proposal=opening)
    set_planning_mode(bakery_members[0], period, bakery, by_hand=True)
    _work(PeriodStatus.ROUNDS, period)
    rows = {row["capability"]: row for entry in period.rounds.get(number=period.round).summary["councils"]
            if entry["council"] == bakery.pk for row in entry["rows"]}
    bread = catalogue(federation).get(name="bread").pk
    if not time.now() < real_now - day < period.round_ends:
        raise RuntimeError("demo economy: the winter period's first revision window is not where it should be")
    time.set(real_now - day)
    submit_hand_proposal(bakery_members[0], period, bakery, {
        str(capability): min(7000, row["units"]) if row["product"] == bread else row["units"]
        for capability, row in rows.items()})
    _work(PeriodStatus.ROUNDS, period)
    if not (period.round == 2 and period.round_ends and period.round_ends > real_now):
        raise RuntimeError("demo economy: the winter period should wait for revisions after its second round")
    return period


def _vote_parts(time, period, members_of, votes=None, reasons=None):
    """Each council votes on its part of the plan; the clock moves past the last vote's close."""
    votes, reasons = votes or {}, reasons or {}
    parts = list(period.parts.filter(attempt=period.attempt).select_related("vote"))
    for part in parts:
        _vote(members_of[part.council_id], part.vote, votes.get(part.council_id), reasons.get(part.council_id))
    time.set(max(part.vote.voting_ends for part in parts) + timedelta(minutes=1))


def demo_logins() -> list[str]:
    User = get_user_model()
    lines = []
    for council in Council.objects.exclude(kind="federation").order_by("name"):
        names = [m.member.username for m in council.memberships.filter(left_at__isnull=True).select_related("member")]
        if names and User.objects.filter(username=names[0]).exists():
            lines.append(f"  {council.name}: {', '.join(names)}")
    return lines
