"""The demo federation, built the way members would build it: through the services, with the clock moved through a month."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from councils import clock
from councils.assemblies.models import Council
from councils.assemblies.services import create_council, join_council
from councils.federation import petitions
from councils.federation.services import create_federation_proposal, current_delegates, open_recall_petition
from councils.decisions.services import (
    add_comment,
    call_fallback_round,
    cast_ballot,
    create_proposal,
    move_amendment,
    settle_due,
)

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
    with transaction.atomic(), clock.frozen(real_now - timedelta(days=30)) as time:
        # One Argon2 hash for all: the password is public anyway, and thirty
        # deliberate half-second hashes would only slow the first start.
        encoded = make_password(DEMO_PASSWORD)
        users = [get_user_model().objects.create(username=name, email=f"{name}@example.org", password=encoded) for name in NAMES]
        bakery_members, street_members, farm_members = users[:10], users[10:20], users[20:]
        day = timedelta(days=1)
        bakery = create_council(
            users[0], name="Riverside Bakery Workers' Council", kind="workplace",
            description="The bakers, drivers and counter staff of the Riverside bakery.",
            charter={"deliberation_period": day, "voting_period": 2 * day},
        )
        street = create_council(
            users[10], name="Northside Neighbourhood Council", kind="neighbourhood",
            description="Residents of the Northside blocks.",
            charter={"quorum": "0.3", "deliberation_period": day, "voting_period": 2 * day, "consensus_fallback": "0.75"},
        )
        farm = create_council(
            users[20], name="Valley Farms Agricultural Council", kind="agricultural",
            description="Growers of the valley co-operative farms. New members are admitted by the members' vote.",
            charter={"admission": "vote", "decision_method": "two_thirds", "deliberation_period": day, "voting_period": day},
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
            federation_charter={"competences": ["bread and flour", "transport", "shared equipment"], "convocation_share": "0.5"},
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

    settle_due(None, real_now)
    # Open business, on the real clock.
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
        open_recall_petition(bakery_members[6], delegates[bakery])
        voting = create_proposal(
            bakery_members[0], bakery, title="Elect a second delivery coordinator",
            body="Deliveries doubled since the neighbourhood joined; one coordinator is not enough.",
            deliberation_ends=real_now, voting_ends=real_now + timedelta(days=3),
        )
        for member in bakery_members[1:5]:
            cast_ballot(member, voting, "yes")
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


def demo_logins() -> list[str]:
    User = get_user_model()
    lines = []
    for council in Council.objects.exclude(kind="federation").order_by("name"):
        names = [m.member.username for m in council.memberships.filter(left_at__isnull=True).select_related("member")]
        if names and User.objects.filter(username=names[0]).exists():
            lines.append(f"  {council.name}: {', '.join(names)}")
    return lines
