"""Forms a screen reader can follow: every aria-describedby names an element that exists; checkboxes sit in their label."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def described_ids_exist(html: str) -> list[str]:
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    missing = []
    for value in re.findall(r'aria-describedby="([^"]+)"', html):
        missing += [i for i in value.split() if i not in ids]
    return missing


def test_every_described_by_points_at_an_element(clock, make_council, members_of, make_proposal):
    council = make_council(members=1)
    member = members_of(council)[0]
    proposal = make_proposal(council, member)
    client = Client()
    assert described_ids_exist(client.get(reverse("signup")).content.decode()) == []
    client.force_login(member)
    for url in (reverse("profile"), reverse("proposal-create", args=[council.slug]),
                reverse("proposal-create", args=[council.slug]) + "?kind=election", proposal.get_absolute_url(),
                reverse("council-create"), reverse("password-change")):
        html = client.get(url).content.decode()
        assert 'aria-describedby="' in html or url != reverse("signup")
        assert described_ids_exist(html) == [], url


def test_checkboxes_are_inside_their_labels(clock, make_council, members_of):
    council = make_council(members=1)
    client = Client()
    client.force_login(members_of(council)[0])
    html = client.get(reverse("proposal-create", args=[council.slug])).content.decode()
    for name in ("secret", "draft"):
        assert re.search(rf'<label for="id_{name}"><input type="checkbox" name="{name}"', html), name
