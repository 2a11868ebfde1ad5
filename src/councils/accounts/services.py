"""Accounts and personal API tokens."""

from __future__ import annotations

import functools
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from councils import clock
from councils.accounts.models import ApiToken
from councils.adapters import sql
from councils.errors import Conflict, Invalid, NotAllowed, NotFound

TOKEN_PREFIX = "cnc_"


def sign_up(username: str, password: str, email: str = ""):
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise Invalid(gettext("choose a user name"), field="username")
    field = User._meta.get_field("username")
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), field="username") from None
    if len(username) > 150:
        raise Invalid(gettext("a user name has at most 150 characters"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(gettext("that user name is taken"), field="username")
    email = _clean_email(email) if (email or "").strip() else ""
    # The address is kept only once its owner has followed the link sent to it: notifications and password
    # resets go to verified addresses, never to one a stranger typed.
    candidate = User(username=username, email="")
    try:
        password_validation.validate_password(password or "", candidate)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), field="password") from None
    candidate.set_password(password)
    candidate.save()
    if email:
        send_email_verification(candidate, email)
    return candidate


# How long the link that verifies an email address stays good.
EMAIL_LINK_DAYS = 3
_EMAIL_SALT = "councils.accounts.email"


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid(gettext("enter an email address such as ana@example.org"), field="email") from None
    return get_user_model().objects.normalize_email(email)


def email_verification_token(user, email: str) -> str:
    """A signed, dated token naming the person, the new address and the address they have now: once
    the address changes (this link or another was followed) the token no longer applies."""
    return signing.dumps({"u": user.pk, "e": email, "was": user.email}, salt=_EMAIL_SALT, compress=True)


def send_email_verification(actor, email: str) -> str:
    """Sends a link to ``email``; following it makes it the person's address. Returns the cleaned address."""
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(gettext("Log in to change your email address."))
    email = _clean_email(email)
    if email.lower() == (actor.email or "").lower():
        raise Invalid(gettext("that is already your address"), field="email")
    link = settings.SITE_URL.rstrip("/") + reverse("email-verify", args=[email_verification_token(actor, email)])
    body = render_to_string("accounts/email/verify.txt", {"user": actor, "email": email, "link": link, "days": EMAIL_LINK_DAYS})
    send_mail(gettext("Confirm your email address for Councils"), body, None, [email])
    return email


def verify_email(token: str):
    """Follows a verification link: the address in it becomes the person's. Returns the person."""
    try:
        data = signing.loads(token, salt=_EMAIL_SALT, max_age=EMAIL_LINK_DAYS * 86400)
    except signing.SignatureExpired:
        raise Invalid(gettext("this link is older than %(email_link_days)s days: ask for a new one on your profile") % {"email_link_days": EMAIL_LINK_DAYS}) from None
    except signing.BadSignature:
        raise Invalid(gettext("this link is not valid: copy the whole link from the email, or ask for a new one")) from None
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data.get("u"), is_active=True).first()
        if user is None:
            raise NotFound(gettext("this account no longer exists"))
        if user.email == data["e"]:
            return user
        if (user.email or "") != (data.get("was") or ""):
            raise Invalid(gettext("your address changed since this link was sent: ask for a new one on your profile"))
        user.email = data["e"]
        user.save(update_fields=["email"])
    return user


def create_token(actor, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is shown once and never stored."""
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(gettext("Log in to create a token."))
    name = (name or "").strip()
    if not name:
        raise Invalid(gettext("give the token a name, so you know later what uses it"), field="name")
    if len(name) > 80:
        raise Invalid(gettext("a token name has at most 80 characters"), field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor, name=name, prefix=raw[: len(TOKEN_PREFIX) + 6], digest=ApiToken.digest_of(raw), created_at=clock.now()
        )
    return token, raw


def revoke_token(actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first() if getattr(actor, "is_authenticated", False) else None
    if token is None:
        raise NotFound(gettext("no such token of yours"))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def end_other_sessions(actor, keep: str | None) -> int:
    """Log ``actor`` out everywhere but the session ``keep`` (the one asking): a lost phone, a shared computer.

    Not a record entry: sessions are the member's own business, not the council's. The sessions table is read once;
    each session names its user only inside its encoded data, so they are decoded one by one.
    """
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(gettext("Log in to end your other sessions."))
    ended = 0
    for session in Session.objects.exclude(session_key=keep or "").iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(actor.pk):
            session.delete()
            ended += 1
    return ended


def user_for_token(raw: str):
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    # Every API act asks this: one statement written once (adapters.sql), not a query compiled per request.
    row = sql.one(_token_sql(), [ApiToken.digest_of(raw)])
    if row is None:
        return None
    user = _user_rows().make(row[2:])
    if not user.is_active:
        return None
    last_used_at = _LAST_USED.make(row[:2]).last_used_at
    now = clock.now()
    # Write at most once a minute: a busy client must not turn every request into a write.
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row[0]).update(last_used_at=now)
    return user


@functools.cache
def _user_rows() -> sql.Rows:
    return sql.Rows(get_user_model())


@functools.cache
def _token_sql() -> str:
    q = sql.quote
    return (f"SELECT t.{q('id')}, t.{q('last_used_at')}, {_user_rows().columns('u')} FROM {sql.table(ApiToken)} t "
            f"JOIN {sql.table(get_user_model())} u ON u.{q('id')} = t.{q('user_id')} "
            f"WHERE t.{q('digest')} = %s AND t.{q('revoked_at')} IS NULL")


_LAST_USED = sql.Rows(ApiToken, ["id", "last_used_at"])


def set_email_notifications(actor, on: bool):
    """Switch one's own notification emails on or off. Returns the MemberSettings row."""
    from councils.accounts.models import MemberSettings

    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed(gettext("Log in to change your notification settings."))
    with transaction.atomic():
        member_settings, _ = MemberSettings.objects.select_for_update().get_or_create(user=actor)
        if member_settings.email_notifications != bool(on):
            member_settings.email_notifications = bool(on)
            member_settings.save(update_fields=["email_notifications"])
    return member_settings


def email_notifications_on(user) -> bool:
    """Notifications are on unless the person switched them off."""
    from councils.accounts.models import MemberSettings

    row = MemberSettings.objects.filter(user=user).values_list("email_notifications", flat=True).first()
    return True if row is None else row
