"""schemathesis against the OpenAPI document of /api/: no server error on any generated request,
and every answer matches the document (status code, content type, body schema).

Both run on the suite's database: SQLite, or PostgreSQL when DATABASE_URL points at it (as CI's second pass does),
where a NUL byte that reached a query used to answer 500. schemathesis generates NUL in strings (allow_x00, its
default); ``test_a_nul_in_every_path_parameter_and_body_is_refused`` puts one in every parameter of every operation.

Requests are made in-process through the WSGI application, as a member with a token, against a
council with an open vote, a vote in deliberation and a comment, so that generated requests reach
the services and not only the 404s of made-up ids.
"""

import os
from datetime import timedelta

import pytest

try:
    import schemathesis
    from hypothesis import HealthCheck, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance, response_schema_conformance, status_code_conformance,
    )
except ImportError:  # pragma: no cover - depends on the machine
    schemathesis = None

CHECKS = None if schemathesis is None else [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
]
EXAMPLES = int(os.environ.get("COUNCILS_SCHEMATHESIS_EXAMPLES", "4"))


def _missing(reason):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the API fuzzing: pip install -e '.[test]')")
    pytest.skip(reason)


@pytest.fixture
def keep_connection():
    """Requests go straight to the WSGI application, not through Django's test client, so Django would close
    the database connection after each one (and with it the test's transaction on PostgreSQL), as the test
    client stops it from doing."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, keep_connection, clock, make_council, members_of, make_proposal):
    from django.core.cache import cache

    from councils.accounts.services import create_token
    from councils.decisions.services import add_comment

    cache.clear()  # the throttles' counts
    council = make_council(members=2)
    founder, member, _ = members_of(council)
    voting = make_proposal(council, founder, deliberation=timedelta(0), title="Open vote")
    deliberating = make_proposal(council, founder, title="Still discussed", body="Buy a van in May.")
    comment = add_comment(founder, voting, "A remark.")
    token = create_token(member, "schemathesis")[1]
    return {"slug": council.slug, "proposals": [voting.pk, deliberating.pk], "comment": comment.pk, "token": token}


def _aim(case, world):
    """Half the generated ids are replaced by real ones, so requests reach the services."""
    params = case.path_parameters or {}
    if "slug" in params and len(str(params["slug"])) % 2:
        params["slug"] = world["slug"]
    if "proposal_id" in params and isinstance(params["proposal_id"], int) and params["proposal_id"] % 2:
        params["proposal_id"] = world["proposals"][params["proposal_id"] % 4 // 2]
    if "comment_id" in params and isinstance(params["comment_id"], int) and params["comment_id"] % 2:
        params["comment_id"] = world["comment"]


def test_a_nul_in_every_path_parameter_and_body_is_refused(world, settings):
    """Every operation of the document, with a NUL in each path parameter, then with real ids and a NUL in a body."""
    import re

    from django.test import Client

    settings.COUNCILS_API_RATES = {"member": "100000/min", "anonymous": "100000/min"}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    document = client.get("/api/openapi.json").json()
    real = {"slug": world["slug"], "proposal_id": world["proposals"][0], "comment_id": world["comment"]}
    tried = 0
    for path, operations in document["paths"].items():
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            urls = [re.sub(r"{([^}]+)}", lambda m: str(real.get(m.group(1), 1)), path) + "?q=%00"]
            if "{" in path:
                urls.append(re.sub(r"{[^}]+}", "a%00b", path))
            for url in urls:
                answer = client.generic(method.upper(), url, data='{"title": "a\\u0000b", "body": "\\u0000"}', content_type="application/json")
                assert answer.status_code < 500, (method, url, answer.status_code)
                assert answer.status_code in (400, 401, 403, 404, 405), (method, url, answer.status_code)
                tried += 1
    assert tried > 50


if schemathesis is None:

    def test_api_conforms_to_its_openapi_document():
        _missing("schemathesis is not installed")

else:
    from django.core.wsgi import get_wsgi_application

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())

    @schema.parametrize()
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def test_api_conforms_to_its_openapi_document(case, world, settings):
        settings.COUNCILS_API_RATES = {"member": "100000/min", "anonymous": "100000/min"}
        _aim(case, world)
        headers = {"Authorization": f"Bearer {world['token']}"} if len(case.path) % 3 else {}
        case.call_and_validate(headers=headers, checks=CHECKS)
