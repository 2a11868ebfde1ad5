from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse


class CouncilKind(models.TextChoices):
    WORKPLACE = "workplace", "Workplace council"
    NEIGHBOURHOOD = "neighbourhood", "Neighbourhood council"
    AGRICULTURAL = "agricultural", "Agricultural council"
    OTHER = "other", "Other council"
    FEDERATION = "federation", "Federation"


class Admission(models.TextChoices):
    OPEN = "open", "Open: anyone who asks joins at once"
    VOTE = "vote", "By vote: the members decide each request"


class DecisionMethod(models.TextChoices):
    MAJORITY = "majority", "Majority of votes cast"
    TWO_THIRDS = "two_thirds", "Two thirds of votes cast"
    MAJORITY_OF_MEMBERS = "majority_of_members", "Majority of all members"


class Council(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    kind = models.CharField(max_length=20, choices=CouncilKind.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("council", args=[self.slug])

    @property
    def is_federation(self) -> bool:
        return self.kind == CouncilKind.FEDERATION

    @property
    def subject(self) -> str:
        return f"council:{self.pk}"

    def record_state(self) -> dict:
        return {"name": self.name, "slug": self.slug, "kind": self.kind, "description": self.description}


class Charter(models.Model):
    """A council's rules. Written at founding; later changed only by the council's vote."""

    council = models.OneToOneField(Council, on_delete=models.PROTECT, related_name="charter")
    admission = models.CharField(max_length=10, choices=Admission.choices, default=Admission.OPEN)
    decision_method = models.CharField(max_length=30, choices=DecisionMethod.choices, default=DecisionMethod.MAJORITY)
    quorum = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.250"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text="Share of members who must take part for a vote to count.",
    )
    deliberation_period = models.DurationField(default=timedelta(days=3))
    voting_period = models.DurationField(default=timedelta(days=4))

    @property
    def subject(self) -> str:
        return f"charter:{self.council_id}"

    def record_state(self) -> dict:
        return {
            "admission": self.admission,
            "decision_method": self.decision_method,
            "quorum": str(self.quorum),
            "deliberation_period_s": int(self.deliberation_period.total_seconds()),
            "voting_period_s": int(self.voting_period.total_seconds()),
        }


class Membership(models.Model):
    """A person's membership of a base council, from joining to leaving.

    A row is never deleted: leaving sets ``left_at``, so the record of who was a
    member when a vote closed stays answerable.
    """

    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="memberships")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "member"], condition=Q(left_at__isnull=True), name="one_open_membership"
            )
        ]

    @property
    def subject(self) -> str:
        return f"membership:{self.pk}"

    def record_state(self) -> dict:
        return {
            "council": self.council_id,
            "member": self.member.username,
            "joined_at": self.joined_at.isoformat(),
            "left_at": self.left_at.isoformat() if self.left_at else None,
        }
