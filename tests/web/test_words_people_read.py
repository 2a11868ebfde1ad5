"""Every page of the demo, read as a person reads it: no Python internals, no ids where a name belongs."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from councils.adapters import words
from councils.assemblies.models import Council
from councils.decisions.models import Proposal
from councils.demo import load_demo

pytestmark = pytest.mark.django_db

LEAKS = {
    "a model's default name": re.compile(r"\b[A-Z][A-Za-z]+ object \(\d+\)"),
    "a raw duration": re.compile(r"\b\d+:\d\d:\d\d(?![\d.])(?!\s*(UTC|[A-Z]{3,4}\b))"),
    "a negative zero": re.compile(r"-0(\.0+)?%"),
    "an exponent": re.compile(r"(?<![\w.])\d+(\.\d+)?e[-+]?\d+(?!\w)"),
    "microseconds": re.compile(r"\d\d:\d\d:\d\d\.\d{3,}"),
    "a share of members as a fraction": re.compile(r"0\.\d+ of members"),
}


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<details><summary>The entry as recorded.*?</details>", " ", html, flags=re.S)  # the JSON, on purpose
    html = re.sub(r"<svg\b.*?</svg>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def pages():
    yield "/"
    yield "/councils/"
    yield "/congresses/"
    for council in Council.objects.all():
        yield council.get_absolute_url()
        yield f"/c/{council.slug}/record/"
        yield f"/c/{council.slug}/economy/"
    for proposal in Proposal.objects.filter(published_at__isnull=False):
        yield proposal.get_absolute_url()


def test_no_page_of_the_demo_leaks_internal_values():
    load_demo()
    ana = Client()
    ana.force_login(get_user_model().objects.get(username="ana"))
    found = []
    for client in (Client(), ana):
        for url in pages():
            response = client.get(url)
            assert response.status_code == 200, url
            text = visible_text(response.content.decode())
            for what, pattern in LEAKS.items():
                match = pattern.search(text)
                if match:
                    found.append(f"{url}: {what}: …{text[max(0, match.start() - 60):match.end() + 20]}…")
    assert not found, "\n".join(found[:30])


def test_the_demo_links_what_a_newcomer_looks_for():
    load_demo()
    bakery = Council.objects.get(name__startswith="Riverside")
    # The record page: each act in words, linked, with its JSON behind a disclosure.
    html = Client().get(f"/c/{bakery.slug}/record/").content.decode()
    election = Proposal.objects.get(title="Elect a second delivery coordinator")
    assert f'href="{election.get_absolute_url()}">Elect a second delivery coordinator</a>' in html
    assert "voted on" in html and "<details><summary>The entry as recorded" in html
    # The blocked consensus links to its second round.
    first = Proposal.objects.get(title="House rules for the courtyard")
    second = Proposal.objects.get(fallback_of=first)
    assert f'href="{second.get_absolute_url()}"' in Client().get(first.get_absolute_url()).content.decode()
    # The congress in session is in the navigation's list and on the federation's page, with the recall petition.
    from councils.federation.models import Congress

    congress = Congress.objects.get()
    assert congress.title in Client().get("/congresses/").content.decode()
    federation = congress.federation
    page = Client().get(federation.get_absolute_url()).content.decode()
    assert congress.title in page and "Recall petitions against delegates" in page
    assert "before our council had decided its mandate" in page
    live = Client().get(f"/c/{federation.slug}/congress/{congress.pk}/").content.decode()
    assert "In session" in live and "Speakers list" in live and "Votes cast so far" in live and "Minutes" in live


@pytest.mark.parametrize("value, expected", [
    (0, "no time"), (86400, "1 day"), (86400 + 21600, "1 day and 6 hours"), (5400, "1 hour and 30 minutes"),
    (14 * 86400, "2 weeks"), (10 * 86400, "10 days"),
])
def test_durations_in_words(value, expected):
    from datetime import timedelta

    assert words.duration(timedelta(seconds=value)) == expected


@pytest.mark.parametrize("value, expected", [
    (0.25, "25%"), ("0.250", "25%"), (-0.0, "0%"), (-1e-9, "0%"), (1.08e-14, "0%"), (0.004, "under 1%"), (1, "100%"),
])
def test_shares_in_words(value, expected):
    assert words.percent(value) == expected


@pytest.mark.parametrize("value, unit, expected", [
    (725.5449, "km", "725.54 km"), (20000, "kg", "20\u202f000 kg"), (1e-12, "", "0"), (-0.001, "h", "0 h"),
])
def test_quantities_in_words(value, unit, expected):
    assert words.quantity(value, unit) == expected
