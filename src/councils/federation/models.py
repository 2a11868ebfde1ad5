from __future__ import annotations

from django.db import models
from django.db.models import Q


class Affiliation(models.Model):
    """A council's membership of a federation, begun and ended by the council's own decisions."""

    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="affiliations")
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="federations_joined")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    joined_by = models.ForeignKey("decisions.Decision", on_delete=models.PROTECT, related_name="+")
    left_by = models.ForeignKey("decisions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["federation", "council"], condition=Q(left_at__isnull=True), name="one_open_affiliation"
            )
        ]

    @property
    def subject(self) -> str:
        return f"affiliation:{self.pk}"

    def record_state(self) -> dict:
        return {
            "federation": self.federation_id,
            "council": self.council_id,
            "joined_at": self.joined_at.isoformat(),
            "left_at": self.left_at.isoformat() if self.left_at else None,
        }
