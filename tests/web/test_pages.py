import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from councils.decisions.services import cast_ballot, get_decision

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase"


def csrf_client():
    return Client(enforce_csrf_checks=True)


def token_from(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


def test_sign_up_log_out_and_log_in(clock):
    client = csrf_client()
    form = client.get(reverse("signup"))
    response = client.post(reverse("signup"), {
        "csrfmiddlewaretoken": token_from(form), "username": "rosa", "password": PASSWORD, "password_again": PASSWORD,
    }, follow=True)
    assert "Welcome, rosa" in response.content.decode()
    home = client.get(reverse("home"))
    client.post(reverse("logout"), {"csrfmiddlewaretoken": token_from(home)})
    assert "Log in" in client.get(reverse("home")).content.decode()
    form = client.get(reverse("login"))
    response = client.post(reverse("login"), {"csrfmiddlewaretoken": token_from(form), "username": "rosa", "password": PASSWORD}, follow=True)
    assert "Welcome, rosa" in response.content.decode()


@pytest.mark.parametrize("data, message", [
    ({"username": "", "password": PASSWORD, "password_again": PASSWORD}, "This field is required"),
    ({"username": "x", "password": "short", "password_again": "short"}, "too short"),
    ({"username": "x", "password": PASSWORD, "password_again": PASSWORD + "!"}, "The two passwords differ"),
    ({"username": "bad name!", "password": PASSWORD, "password_again": PASSWORD}, "Enter a valid username"),
])
def test_sign_up_errors_are_shown_on_the_form(clock, data, message):
    response = Client().post(reverse("signup"), data)
    assert response.status_code == 200 and message in response.content.decode()


def test_taken_user_name_is_refused(clock, make_user):
    make_user("rosa")
    response = Client().post(reverse("signup"), {"username": "Rosa", "password": PASSWORD, "password_again": PASSWORD})
    assert "taken" in response.content.decode()


def test_forms_need_the_csrf_token(clock, make_user, make_council):
    client = csrf_client()
    client.force_login(make_user())
    assert client.post(reverse("council-create"), {"name": "X", "kind": "other"}).status_code == 403
    council = make_council()
    assert client.post(reverse("council-join", args=[council.slug])).status_code == 403


def test_login_is_throttled_after_repeated_failures(clock, make_user, settings):
    make_user("target", password=PASSWORD)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "target", "password": "wrong password"})
    response = client.post(reverse("login"), {"username": "target", "password": PASSWORD})
    assert response.status_code == 429 and "Too many failed log-ins" in response.content.decode()
    # Another member is not locked out.
    make_user("other", password=PASSWORD)
    response = Client().post(reverse("login"), {"username": "other", "password": PASSWORD})
    assert response.status_code == 302


def test_found_a_council_through_the_form(clock, make_user):
    client = Client()
    client.force_login(make_user())
    response = client.post(reverse("council-create"), {
        "name": "Tram Depot", "kind": "workplace", "description": "", "admission": "open", "decision_method": "majority",
        "quorum_percent": 30, "deliberation_days": 2, "voting_days": 2,
    }, follow=True)
    text = response.content.decode()
    assert "Tram Depot is founded" in text and "30%" in text


def test_founding_a_council_with_deliberation_under_the_floor_says_so(clock, make_user):
    client = Client()
    client.force_login(make_user())
    response = client.post(reverse("council-create"), {
        "name": "Hasty Depot", "kind": "workplace", "description": "", "admission": "open", "decision_method": "majority",
        "quorum_percent": 30, "deliberation_days": 1, "voting_days": 2,
    }, follow=True)
    assert "under the charter&#x27;s minimum" in response.content.decode() or "under the charter's minimum" in response.content.decode()


def test_council_form_errors_are_shown(clock, make_user):
    client = Client()
    client.force_login(make_user())
    response = client.post(reverse("council-create"), {"name": "", "kind": "workplace", "quorum_percent": 300})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()


def test_proposal_page_shows_the_result_as_a_chart(clock, make_council, members_of, make_proposal):
    council = make_council(members=2)
    proposal = make_proposal(council, body="Text")
    clock.advance(hours=1)
    for member, choice in zip(members_of(council), ["yes", "yes", "no"]):
        cast_ballot(member, proposal, choice)
    clock.advance(hours=2)
    text = Client().get(proposal.get_absolute_url()).content.decode()
    assert "Result:" in text and "Adopted" in text
    assert '<svg class="chart"' in text and "Yes: 2, No: 1, Abstain: 0" in text
    assert "3 of 3 members" in text


def test_markdown_is_rendered_and_sanitised(clock, make_council, make_proposal):
    council = make_council()
    body = "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    proposal = make_proposal(council, body=body)
    text = Client().get(proposal.get_absolute_url()).content.decode()
    assert "<strong>bold</strong>" in text
    assert "<script>alert" not in text and "onerror" not in text and "javascript:" not in text


def test_pages_send_a_content_security_policy(clock):
    response = Client().get(reverse("home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_vote_form_changes_the_vote(clock, make_council, members_of, make_proposal):
    council = make_council()
    member = members_of(council)[0]
    proposal = make_proposal(council, deliberation=timedelta(0))
    client = Client()
    client.force_login(member)
    client.post(reverse("proposal-vote", args=[council.slug, proposal.pk]), {"choice": "no"})
    response = client.post(reverse("proposal-vote", args=[council.slug, proposal.pk]), {"choice": "yes"}, follow=True)
    text = response.content.decode()
    assert "You have voted" in text and 'value="yes" required checked' in text
    response = client.post(reverse("proposal-vote", args=[council.slug, proposal.pk]), {"choice": "perhaps"}, follow=True)
    assert "choose yes, no or abstain" in response.content.decode()


def test_home_lists_votes_waiting_for_my_ballot(clock, make_council, members_of, make_proposal):
    council = make_council()
    member = members_of(council)[0]
    make_proposal(council, deliberation=timedelta(0), title="Waiting for you")
    client = Client()
    client.force_login(member)
    assert "Waiting for you" in client.get(reverse("home")).content.decode()


def test_profile_creates_shows_once_and_revokes_a_token(clock, make_user):
    client = Client()
    client.force_login(make_user())
    response = client.post(reverse("token-create"), {"name": "laptop"}, follow=True)
    token = re.search(r'id="new-token">(cnc_[^<]+)<', response.content.decode()).group(1)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/me").status_code == 200
    assert token not in client.get(reverse("profile")).content.decode()  # shown once
    from councils.accounts.models import ApiToken

    client.post(reverse("token-revoke", args=[ApiToken.objects.get().pk]))
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/me").status_code == 401


def test_record_page_verifies_the_chain(clock, make_council):
    council = make_council()
    text = Client().get(reverse("council-record", args=[council.slug]) + "?verify=1").content.decode()
    assert "chain intact" in text and "council.founded" in text


def test_unknown_pages_are_404(clock):
    assert Client().get("/c/no-such-council/").status_code == 404
    assert Client().get("/c/no-such-council/p/1/").status_code == 404
