from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class ApiToken(models.Model):
    """A personal token for API clients. Only its SHA-256 is kept: a database leak reveals no usable token."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class MemberSettings(models.Model):
    """A person's own choices about how Councils reaches them. No row: the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_settings")
    email_notifications = models.BooleanField(default=True)

    def __str__(self):
        return f"settings of {self.user}"


class NotificationKind(models.TextChoices):
    OPENED = "opened", gettext_lazy("Vote opened")
    CLOSING = "closing", gettext_lazy("Vote closing within a day")
    DECIDED = "decided", gettext_lazy("Vote decided")
    MOVED = "moved", gettext_lazy("Deadlines moved")


class SentNotification(models.Model):
    """One notice sent to one person. The row is written before the email goes out,
    and the unique constraint lets exactly one of several workers claim each notice.

    ``proposal_id`` is a plain number, not a foreign key, so that the accounts app
    does not depend on the decisions app's migrations.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_notifications")
    proposal_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "proposal_id", "kind"], name="one_notification_per_notice")
        ]

    def __str__(self):
        return f"{self.kind} of proposal {self.proposal_id} to {self.user}"


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` for one write, with the response it was given.

    The row is written in the same transaction as the act it answers, so the act
    and its key are stored together or not at all: a request retried after a lost
    response, a crash or a restart gets the stored answer and is not applied twice.
    ``request_digest`` (SHA-256 of method, path and body) catches a key reused for
    a different request.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_response_per_idempotency_key")]

    def __str__(self):
        return f"{self.key} of {self.user}"
