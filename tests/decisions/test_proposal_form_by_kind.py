"""The proposal form shows the fields of the chosen kind only, with and without JavaScript."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from councils.decisions.models import Proposal

pytestmark = pytest.mark.django_db


def visible_fields(html: str) -> set[str]:
    form = html[html.index('id="proposal-form"'):]
    shown = set()
    for block in re.findall(r'<div class="field[^"]*"[^>]*>.*?</div>', form, re.S):
        if re.match(r'<div class="field[^"]*"[^>]*\bhidden\b', block):
            continue
        shown |= set(re.findall(r'name="([a-z_]+)"', block))
    return shown


def test_a_motion_shows_no_election_or_removal_field(clock, make_council, members_of):
    council = make_council(members=1)
    client = Client()
    client.force_login(members_of(council)[0])
    html = client.get(reverse("proposal-create", args=[council.slug])).content.decode()
    shown = visible_fields(html)
    assert {"title", "body", "decision_method", "options"} <= shown
    assert not shown & {"office", "candidates", "subject_member", "federation", "petition"}
    assert "are ignored" not in html
    election = visible_fields(client.get(reverse("proposal-create", args=[council.slug]) + "?kind=election").content.decode())
    assert {"office", "candidates", "seats"} <= election and not election & {"options", "subject_member", "decision_method"}
    removal = visible_fields(client.get(reverse("proposal-create", args=[council.slug]) + "?kind=removal").content.decode())
    assert "subject_member" in removal and not removal & {"office", "candidates", "options"}


def test_hidden_fields_are_not_sent_and_the_form_still_works_without_javascript(clock, make_council, members_of):
    council = make_council(members=1)
    author = members_of(council)[0]
    client = Client()
    client.force_login(author)
    html = client.get(reverse("proposal-create", args=[council.slug])).content.decode()
    assert re.search(r'<input[^>]*name="office"[^>]*disabled|<select[^>]*name="office"[^>]*disabled', html)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post(reverse("proposal-create", args=[council.slug]), {
        "csrfmiddlewaretoken": token, "kind": "motion", "title": "Longer lunch", "body": "", "decision_method": "majority",
        "options": "", "seats": 1, "max_score": 5, "deliberation_ends": "2030-03-03T09:00", "voting_ends": "2030-03-05T09:00",
        # What a stale page might still send for another kind is not taken.
        "office": "facilitator",
    })
    assert response.status_code == 302
    assert Proposal.objects.get(title="Longer lunch").office == ""


def test_every_kind_the_registry_lists_is_offered(clock, make_council, members_of):
    from councils.decisions import kinds

    council = make_council(members=1)
    client = Client()
    client.force_login(members_of(council)[0])
    html = client.get(reverse("proposal-create", args=[council.slug])).content.decode()
    for kind in kinds.proposable(council):
        assert f'<option value="{kind.name}"' in html
