"""The demo shows issue 14's promises kept: a charter changed by vote, a hidden comment with its appeal, and a
federation decision overruled by referendum, with the decision's page saying so."""

from decimal import Decimal

import pytest
from django.test import Client

from councils.assemblies.models import Council
from councils.decisions.models import Comment, Proposal
from councils.demo import load_demo
from councils.federation.services import charter_of
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db


def test_the_demo_shows_a_charter_change_a_hidden_comment_and_an_overruling_referendum():
    assert load_demo() is True
    street = Council.objects.get(name__startswith="Elm Street") if Council.objects.filter(name__startswith="Elm Street").exists() \
        else Proposal.objects.get(kind="charter").council
    change = Proposal.objects.get(kind="charter")
    assert change.decision.outcome == "adopted" and change.decision_method == "two_thirds"
    street.charter.refresh_from_db()
    assert street.charter.secret_ballots and street.charter.quorum == Decimal("0.333")
    hidden = Comment.objects.get(hidden_at__isnull=False)
    appeal = Proposal.objects.get(kind="appeal", comment=hidden)
    assert hidden.body not in Client().get(hidden.proposal.get_absolute_url()).content.decode()
    assert hidden.body not in appeal.body
    housing = Proposal.objects.get(title="Add housing to the federation's competences")
    referendum = Proposal.objects.get(kind="referendum", overrules=housing.decision)
    assert referendum.decision.outcome == "rejected"
    assert "housing" not in charter_of(housing.council).competences
    page = Client().get(housing.get_absolute_url()).content.decode()
    assert "Overruled by referendum" in page and referendum.get_absolute_url() in page
    assert verify_all().ok
