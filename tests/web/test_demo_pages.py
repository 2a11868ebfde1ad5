"""The demo shows every kind of vote; every one of its pages must render for every kind of visitor."""

import pytest
from django.test import Client

from councils.assemblies.models import Council
from councils.decisions.models import Proposal
from councils.demo import load_demo
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db


def test_demo_loads_once_verifies_and_every_page_renders():
    assert load_demo() is True
    assert load_demo() is False
    assert verify_all().ok
    anonymous, member = Client(), Client()
    from django.contrib.auth import get_user_model

    member.force_login(get_user_model().objects.get(username="ana"))
    methods = set(Proposal.objects.values_list("decision_method", flat=True))
    assert {"majority", "two_thirds", "consensus", "fallback", "approval", "schulze", "stv", "irv", "score"} <= methods
    for client in (anonymous, member):
        for council in Council.objects.all():
            assert client.get(council.get_absolute_url()).status_code == 200
            assert client.get(f"/c/{council.slug}/record/").status_code == 200
            assert client.get(f"/c/{council.slug}/calendar.ics").status_code == 200
        for proposal in Proposal.objects.all():
            response = client.get(proposal.get_absolute_url())
            assert response.status_code == 200, proposal.title
        assert client.get("/").status_code == 200
    page = anonymous.get(Proposal.objects.get(title="Elect our facilitator").get_absolute_url()).content.decode()
    assert "Result: <span" in page and "<svg" in page
    secret = anonymous.get(Proposal.objects.get(title__startswith="Rotate the tractor").get_absolute_url()).content.decode()
    assert "Ballots by receipt" in secret
