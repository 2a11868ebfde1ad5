"""Issue 13, item 9: members log out their other sessions; what is shown once is kept in no session."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    assert client.post(reverse("login"), {"username": user.username, "password": "correct horse battery"}).status_code == 302
    return client


def test_a_member_logs_out_their_other_sessions_and_keeps_this_one(clock, make_user):
    member, other = make_user(), make_user()
    phone, laptop, here = logged_in(member), logged_in(member), logged_in(member)
    someone_else = logged_in(other)
    assert phone.get(reverse("profile")).status_code == 200
    assert 'action="/profile/sessions/end-others/"' in here.get(reverse("profile")).content.decode()
    response = here.post(reverse("end-other-sessions"), follow=True)
    assert "Logged out of 2 other sessions." in response.content.decode()
    assert here.get(reverse("profile")).status_code == 200
    for gone in (phone, laptop):
        assert gone.get(reverse("profile")).status_code == 302  # back to the log-in page
    assert someone_else.get(reverse("profile")).status_code == 200


def test_ending_other_sessions_needs_a_post_and_a_login(clock):
    assert Client().post(reverse("end-other-sessions")).status_code == 302
    assert Session.objects.count() == 0


def test_a_new_token_is_shown_once_and_never_kept_in_the_session(clock, make_user):
    client = logged_in(make_user())
    response = client.post(reverse("token-create"), {"name": "laptop"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">(cnc_[^<]+)<', response.content.decode()).group(1)
    for session in Session.objects.all():
        assert token not in str(session.get_decoded())
