"""A person's account from sign-up to a forgotten password, as they live it: every email read from the outbox."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase"
NEW_PASSWORD = "another long passphrase"


def link_in(message) -> str:
    url = re.search(r"https?://\S+", message.body).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


def sign_up(client, username="rosa", email="rosa@example.org"):
    return client.post(reverse("signup"), {"username": username, "email": email, "password": PASSWORD,
                                           "password_again": PASSWORD}, follow=True)


def test_email_given_at_sign_up_counts_once_its_link_is_followed(clock):
    client = Client()
    response = sign_up(client)
    assert "We sent a link to rosa@example.org" in response.content.decode()
    user = get_user_model().objects.get(username="rosa")
    assert user.email == ""  # not before its owner confirms it
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rosa@example.org"]
    response = client.get(link_in(mail.outbox[0]), follow=True)
    assert "Your email address is now rosa@example.org" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "rosa@example.org"


def test_email_changed_on_the_profile_after_confirmation_only(clock, make_user):
    user = make_user("emma")
    user.email = "old@example.org"
    user.save()
    client = Client()
    client.force_login(user)
    page = client.get(reverse("profile")).content.decode()
    assert "old@example.org" in page and reverse("password-change") in page
    response = client.post(reverse("email-change"), {"email": "new@example.org"}, follow=True)
    assert "We sent a link to new@example.org" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "old@example.org"
    link = link_in(mail.outbox[-1])
    client.get(link)
    user.refresh_from_db()
    assert user.email == "new@example.org"
    # The link has done its work: the same link cannot switch the address again after another change.
    user.email = "third@example.org"
    user.save()
    response = Client().get(link)
    assert response.status_code == 400 and "ask for a new one" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "third@example.org"


def test_tampered_or_bad_email_is_refused_with_a_reason(clock, make_user):
    client = Client()
    client.force_login(make_user())
    response = client.post(reverse("email-change"), {"email": "not an address"})
    assert response.status_code == 400 and "Enter a valid email address" in response.content.decode()
    response = client.get(reverse("email-verify", args=["forged-token"]))
    assert response.status_code == 400 and "not valid" in response.content.decode()
    assert mail.outbox == []


def test_password_change_keeps_you_logged_in(clock, make_user):
    user = make_user("ines", password=PASSWORD)
    client = Client()
    client.force_login(user)
    response = client.post(reverse("password-change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert "Your password is changed" in response.content.decode()
    assert client.get(reverse("profile")).status_code == 200
    assert Client().post(reverse("login"), {"username": "ines", "password": NEW_PASSWORD}).status_code == 302


def test_wrong_old_password_does_not_change_it(clock, make_user):
    user = make_user("ines", password=PASSWORD)
    client = Client()
    client.force_login(user)
    response = client.post(reverse("password-change"), {
        "old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200 and "old password was entered incorrectly" in response.content.decode()


def test_locked_out_member_sees_when_to_retry_and_resets_the_password_by_email(clock, make_user, settings):
    user = make_user("target", password=PASSWORD)
    user.email = "target@example.org"
    user.save()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "target", "password": "wrong password"})
    response = client.post(reverse("login"), {"username": "target", "password": PASSWORD})
    text = response.content.decode()
    assert response.status_code == 429
    assert "Try again at" in text and "in 15 minutes" in text
    assert reverse("password-reset") in text

    response = client.post(reverse("password-reset"), {"email": "target@example.org"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["target@example.org"]
    form_url = client.get(link_in(mail.outbox[0])).url  # Django moves the token into the session
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert "Your password is changed" in response.content.decode()
    # The reset lifts the lock: the new password works at once.
    response = Client().post(reverse("login"), {"username": "target", "password": NEW_PASSWORD})
    assert response.status_code == 302
    # The link works once.
    assert "no longer works" in Client().get(link_in(mail.outbox[0]), follow=True).content.decode()


def test_reset_for_an_unknown_or_unconfirmed_address_sends_nothing_and_says_the_same(clock, make_user):
    make_user("nobody")
    response = Client().post(reverse("password-reset"), {"email": "stranger@example.org"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_login_page_offers_the_reset(clock):
    assert reverse("password-reset") in Client().get(reverse("login")).content.decode()
