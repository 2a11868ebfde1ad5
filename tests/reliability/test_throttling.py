"""API throttling: a flood of requests gets 429 with a JSON body; other members and addresses go on."""

import pytest
from django.core.cache import cache
from django.test import Client

from councils.accounts.services import create_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    cache.clear()
    settings.COUNCILS_API_RATES = {"member": "5/min", "anonymous": "5/min"}
    yield
    cache.clear()


def flood(client, url, times=8):
    return [client.get(url) for _ in range(times)]


def test_a_member_flooding_the_api_gets_429_with_a_json_body(low_rates, make_user):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(make_user(), 'flood')[1]}")
    answers = flood(client, "/api/me")
    assert [a.status_code for a in answers[:5]] == [200] * 5
    refused = answers[-1]
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json") and "Too many requests" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    # Another member is not slowed down by the first one's flood.
    other = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(make_user(), 'calm')[1]}")
    assert other.get("/api/me").status_code == 200


def test_anonymous_reading_is_throttled_per_address(low_rates):
    answers = flood(Client(REMOTE_ADDR="127.0.0.2"), "/api/councils")
    assert answers[0].status_code == 200 and answers[-1].status_code == 429
    assert "detail" in answers[-1].json()
    assert Client(REMOTE_ADDR="127.0.0.3").get("/api/councils").status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(low_rates):
    answers = [Client(REMOTE_ADDR="127.0.0.4", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").get("/api/councils") for i in range(8)]
    assert answers[-1].status_code == 429


def test_guessing_tokens_is_throttled(low_rates):
    client = Client(REMOTE_ADDR="127.0.0.5", HTTP_AUTHORIZATION="Bearer cnc_guess")
    answers = flood(client, "/api/me")
    assert answers[0].status_code == 401 and answers[-1].status_code == 429
    assert answers[-1].json()["detail"]


def test_production_rates_are_generous_and_set_by_the_environment(tmp_path):
    import json
    import os
    import subprocess
    import sys

    code = "import json, django; from django.conf import settings; django.setup(); print(json.dumps(settings.COUNCILS_API_RATES))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "councils.settings", "COUNCILS_DATA": str(tmp_path)}
    defaults = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout)
    assert defaults == {"member": "1200/min", "anonymous": "1200/min"}
    env["COUNCILS_API_RATE_MEMBER"] = "50/s"
    chosen = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout)
    assert chosen["member"] == "50/s"
