"""Accounts and personal API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from councils import clock
from councils.accounts.models import ApiToken
from councils.errors import Conflict, Invalid, NotAllowed, NotFound

TOKEN_PREFIX = "cnc_"


def sign_up(username: str, password: str, email: str = ""):
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise Invalid("choose a user name", field="username")
    field = User._meta.get_field("username")
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), field="username") from None
    if len(username) > 150:
        raise Invalid("a user name has at most 150 characters", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("that user name is taken", field="username")
    candidate = User(username=username, email=email or "")
    try:
        password_validation.validate_password(password or "", candidate)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), field="password") from None
    candidate.set_password(password)
    candidate.save()
    return candidate


def create_token(actor, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is shown once and never stored."""
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed("Log in to create a token.")
    name = (name or "").strip()
    if not name:
        raise Invalid("give the token a name, so you know later what uses it", field="name")
    if len(name) > 80:
        raise Invalid("a token name has at most 80 characters", field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor, name=name, prefix=raw[: len(TOKEN_PREFIX) + 6], digest=ApiToken.digest_of(raw), created_at=clock.now()
        )
    return token, raw


def revoke_token(actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first() if getattr(actor, "is_authenticated", False) else None
    if token is None:
        raise NotFound("no such token of yours")
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
        raise NotAllowed("Log in to end your other sessions.")
    ended = 0
    for session in Session.objects.exclude(session_key=keep or "").iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == str(actor.pk):
            session.delete()
            ended += 1
    return ended


def user_for_token(raw: str):
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = clock.now()
    # Write at most once a minute: a busy client must not turn every request into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def set_email_notifications(actor, on: bool):
    """Switch one's own notification emails on or off. Returns the MemberSettings row."""
    from councils.accounts.models import MemberSettings

    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed("Log in to change your notification settings.")
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
