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


class MemberKey(models.Model):
    """A member's Ed25519 public key (the private half stays with the member: browser, key file, passkey).

    Every registration and revocation is an entry on the member's own chain ("member/<user id>"), so a verifier
    knows which keys were valid when, and a member sees every key ever registered to their account.
    ``held_by_server`` marks a key the server itself holds (demo members' keys made by the demo loader; the test
    suite's keys): such a key proves nothing about the member, and the pages say so.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_keys")
    key_id = models.CharField(max_length=32, unique=True)  # first 16 bytes of SHA-256(raw key), hex
    public_key = models.CharField(max_length=43)  # base64url of the raw 32 bytes
    label = models.CharField(max_length=80, blank=True)
    held_by_server = models.BooleanField(default=False)
    registered_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="member_key_active")]

    def __str__(self):
        return f"key {self.key_id[:8]} of {self.user}"

    @property
    def subject(self) -> str:
        return f"key:{self.key_id}"

    def record_state(self) -> dict:
        return {"key_id": self.key_id, "public_key": self.public_key, "label": self.label, "member": self.user.username,
                "held_by_server": self.held_by_server, "registered_at": self.registered_at, "revoked_at": self.revoked_at}


class AcceptedStatement(models.Model):
    """The SHA-256 of every signed statement the server accepted: the same statement sent again is a replay."""

    digest = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return self.digest[:12]


class ArrivedMember(models.Model):
    """An account made by a council's free-exit import for a member of the origin server (issue 19).

    It has no password: its member claims it (``councils.accounts.claim``) by signing a challenge with one of the
    keys their origin registered to them (``keys``: [{"key_id", "public_key"}], the keys still active on the
    member's own chain the file brought, checked against its signed checkpoint). Those keys are not active for acts
    until the claim: the claim registers the key it was signed with, on the member's chain. Until then the member
    is shown as "not yet claimed" and counts in the council like every member."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="arrival")
    origin = models.CharField(max_length=200)
    keys = models.JSONField(default=list)
    arrived_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.user} arrived from {self.origin}"


class ClaimChallenge(models.Model):
    """A single-use nonce an arrived member signs to claim their account (expires after ten minutes)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claim_challenges")
    nonce = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
