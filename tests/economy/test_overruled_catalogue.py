"""Issue 14: a catalogue change the members overrule by referendum is reverted."""

from datetime import timedelta

import pytest

from councils.decisions.services import cast_ballot, get_decision, settle_due
from councils.economy import services
from councils.economy.models import Product
from councils.federation.petitions import open_petition, sign_petition
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db


def test_an_overruled_catalogue_change_is_reverted(clock, economy_world, federation_vote, members_of):
    world = economy_world
    change = services.propose_catalogue_change(world.delegate, world.federation, add=[{"name": "oats", "unit": "kg"}],
                                               retire=[world.flour.pk],
                                               change=[{"product": world.bread.pk, "unit": "kg"}])
    decision = federation_vote(change)
    assert decision.outcome == "adopted"
    assert Product.objects.get(pk=world.bread.pk).unit == "kg"
    voters = [m for c in world.councils for m in members_of(c)]
    petition = open_petition(voters[1], world.federation, kind="referendum", title="Keep flour", target=change)
    for voter in voters:
        petition.refresh_from_db()
        if petition.result_id:
            break
        sign_petition(voter, petition)
    petition.refresh_from_db()
    referendum = petition.result
    clock.set(referendum.deliberation_ends)
    for voter in voters:
        cast_ballot(voter, referendum, "no")
    clock.set(referendum.voting_ends + timedelta(seconds=1))
    settle_due(world.federation)
    assert get_decision(referendum).outcome == "rejected"
    names = set(services.catalogue(world.federation).values_list("name", flat=True))
    assert "flour" in names and "oats" not in names
    assert Product.objects.get(pk=world.bread.pk).unit == "loaf"
    assert verify_all().ok
