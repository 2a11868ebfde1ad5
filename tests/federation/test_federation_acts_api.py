import json
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.federation.models import Congress
from councils.federation.petitions import open_petition
from councils.federation.services import current_delegates

pytestmark = pytest.mark.django_db


def post(user, url, payload):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, 't')[1]}")
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def test_delegate_election_and_congress_demand_through_the_api(clock, federation_of, members_of, decide):
    federation, (bakery, farm, street) = federation_of([3, 3, 3])
    member = members_of(bakery)[1]
    now = clock.now()
    response = post(member, f"/api/councils/{bakery.slug}/proposals", {
        "title": "New delegate", "kind": "delegate_election", "federation": federation.slug,
        "options": [{"member": member.username}], "deliberation_ends": now.isoformat(),
        "voting_ends": (now + timedelta(hours=1)).isoformat()})
    assert response.status_code == 201, response.content
    from councils.decisions.models import Proposal

    election = Proposal.objects.get(pk=response.json()["id"])
    decide(election, {"ranking": [election.options.get().pk]})
    assert [d.member for d in current_delegates(bakery, federation)] == [member]

    petition = open_petition(member, federation, kind="convocation", title="Congress now")
    response = post(member, f"/api/councils/{bakery.slug}/proposals", {
        "title": "Demand a congress", "kind": "convocation", "federation": federation.slug, "petition": petition.pk,
        "deliberation_ends": clock.now().isoformat(), "voting_ends": (clock.now() + timedelta(hours=1)).isoformat()})
    assert response.status_code == 201, response.content
    decide(Proposal.objects.get(pk=response.json()["id"]), "yes")
    assert Congress.objects.filter(federation=federation).exists()
    missing = post(member, f"/api/councils/{bakery.slug}/proposals", {
        "title": "x", "kind": "convocation", "federation": federation.slug, "petition": 99999})
    assert missing.status_code == 422 and missing.json()["field"] == "petition"
