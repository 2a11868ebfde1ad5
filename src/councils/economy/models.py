"""The economy as the councils keep it: a federation's catalogue of products, each
workplace council's capabilities and hours, each neighbourhood council's needs,
and the plan periods in which they plan production together.
"""
from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy


class EconomyKind(models.TextChoices):
    """The kinds of vote the economy app owns (registered in ``economy.kinds``)."""

    CATALOGUE = "catalogue", gettext_lazy("Change of the federation's catalogue of products")
    NEEDS = "needs", gettext_lazy("Adoption of our needs list")
    PLAN_PERIOD = "plan_period", gettext_lazy("Opening of a plan period")
    PLAN_PART = "plan_part", gettext_lazy("Acceptance of our part of the plan")
    PLAN_ADOPTION = "plan_adoption", gettext_lazy("Adoption of the federation's plan")


class Product(models.Model):
    """An entry of a federation's catalogue, added and retired only by the federation's mandated vote."""

    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=30)
    description = models.TextField(blank=True)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey("decisions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["federation", "name"], condition=Q(retired_at__isnull=True),
                                    name="one_current_product_per_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def subject(self) -> str:
        return f"product:{self.pk}"

    def record_state(self) -> dict:
        return {"federation": self.federation_id, "name": self.name, "unit": self.unit, "description": self.description,
                "retired_at": self.retired_at if self.retired_at else None, "added_at": self.added_at}


class Capability(models.Model):
    """What a workplace council can make of one product: inputs and labour per unit, and capacity per period."""

    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="capabilities")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="capabilities")
    labour = models.FloatField(help_text=gettext_lazy("labour hours per unit"))
    capacity = models.FloatField(help_text=gettext_lazy("units per period"))
    inputs_json = models.TextField(default="{}", help_text=gettext_lazy("units of each input product (by id) per unit of output"))
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["council", "product__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["council", "product"], name="one_capability_per_product")]

    @property
    def inputs(self) -> dict[int, float]:
        return {int(k): float(v) for k, v in json.loads(self.inputs_json).items()}

    @property
    def subject(self) -> str:
        return f"capability:{self.pk}"

    def record_state(self) -> dict:
        return {"council": self.council_id, "product": self.product_id, "labour": self.labour, "capacity": self.capacity,
                "inputs": {str(k): v for k, v in sorted(self.inputs.items())}, "recorded_at": self.recorded_at}


class WorkingHours(models.Model):
    """The hours a workplace council's members offer to work in a period."""

    council = models.OneToOneField("assemblies.Council", on_delete=models.PROTECT, related_name="working_hours")
    hours = models.FloatField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    @property
    def subject(self) -> str:
        return f"working_hours:{self.council_id}"

    def record_state(self) -> dict:
        return {"council": self.council_id, "hours": self.hours, "recorded_at": self.recorded_at}


class DraftNeed(models.Model):
    """A line of the needs list a neighbourhood council's members are editing, before they adopt it by vote."""

    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="draft_needs")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.FloatField()
    priority = models.FloatField(default=1.0)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["product__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["council", "product"], name="one_draft_need_per_product")]

    @property
    def subject(self) -> str:
        return f"draft_need:{self.pk}"

    def record_state(self) -> dict:
        return {"council": self.council_id, "product": self.product_id, "quantity": self.quantity, "priority": self.priority}


class Need(models.Model):
    """A need a neighbourhood council adopted by vote; in force until its next adopted list replaces it."""

    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="needs")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="needs")
    quantity = models.FloatField()
    priority = models.FloatField()
    adopted_by = models.ForeignKey("decisions.Decision", on_delete=models.PROTECT, related_name="+")
    adopted_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["product__name", "pk"]

    @property
    def subject(self) -> str:
        return f"need:{self.pk}"

    def record_state(self) -> dict:
        return {"council": self.council_id, "product": self.product_id, "quantity": self.quantity,
                "priority": self.priority, "adopted_by": self.adopted_by_id,
                "ended_at": self.ended_at if self.ended_at else None, "adopted_at": self.adopted_at}


class Aim(models.TextChoices):
    WEIGHTED = "weighted", gettext_lazy("Priority-weighted fulfilment")
    MAXMIN = "maxmin", gettext_lazy("Max-min: the worst-served need as well served as possible")


class PeriodStatus(models.TextChoices):
    FAILED = "failed", gettext_lazy("Could not start")
    ROUNDS = "rounds", gettext_lazy("Planning rounds")
    ACCEPTANCE = "acceptance", gettext_lazy("Councils voting on their parts")
    ADOPTION = "adoption", gettext_lazy("Federation voting on the whole plan")
    ADOPTED = "adopted", gettext_lazy("Adopted")
    NOT_ADOPTED = "not_adopted", gettext_lazy("Not adopted")


class PlanPeriod(models.Model):
    """A period's planning, opened by the federation's mandated vote.

    The economy is taken as the councils recorded it when the period opened
    (``economy_json``, an economy file anyone can download and recompute);
    ``state_json`` is the engine's state between rounds; ``result_json`` the
    plan the procedure reached, with its labour values and its gap to the optimum.
    """

    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="plan_periods")
    title = models.CharField(max_length=200)
    aim = models.CharField(max_length=10, choices=Aim.choices, default=Aim.WEIGHTED)
    max_rounds = models.PositiveIntegerField(default=10, help_text=gettext_lazy("most rounds before the plan is put to the councils"))
    round_length = models.DurationField(help_text=gettext_lazy("time councils planning by hand have to revise after each round"))
    opened_by = models.OneToOneField("decisions.Decision", on_delete=models.PROTECT, related_name="plan_period")
    opened_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=PeriodStatus.choices, default=PeriodStatus.ROUNDS)
    status_reason = models.TextField(blank=True)
    economy_json = models.TextField()
    index_json = models.TextField(default="{}")  # engine indices -> councils, capabilities, needs
    state_json = models.TextField(blank=True)
    round = models.PositiveIntegerField(default=0)  # the last round published (0: none yet)
    round_ends = models.DateTimeField(null=True, blank=True)  # null: the worker is computing the round
    computing_since = models.DateTimeField(null=True, blank=True)  # a worker's claim on the period
    attempt = models.PositiveSmallIntegerField(default=1)  # goes up each time a rejected part sends it back to rounds
    result_json = models.TextField(blank=True)
    adopted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("plan_period", args=[self.federation.slug, self.pk])

    @property
    def economy_sha256(self) -> str:
        return hashlib.sha256(self.economy_json.encode()).hexdigest()

    @property
    def index(self) -> dict:
        return json.loads(self.index_json)

    @property
    def result(self) -> dict | None:
        return json.loads(self.result_json) if self.result_json else None

    @property
    def subject(self) -> str:
        return f"plan_period:{self.pk}"

    def record_state(self) -> dict:
        return {"federation": self.federation_id, "title": self.title, "aim": self.aim, "max_rounds": self.max_rounds,
                "round_length_s": int(self.round_length.total_seconds()), "opened_by": self.opened_by_id,
                "status": self.status, "status_reason": self.status_reason, "attempt": self.attempt,
                "economy_sha256": self.economy_sha256,
                "result_sha256": hashlib.sha256(self.result_json.encode()).hexdigest() if self.result_json else None,
                "adopted_at": self.adopted_at if self.adopted_at else None}


class PlanningRound(models.Model):
    """One round as published: indicative prices, shortages and surpluses, every council's proposal."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.PROTECT, related_name="rounds")
    attempt = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    iterations = models.PositiveIntegerField()  # facilitation steps of the engine within the round
    balanced = models.BooleanField()
    finished_at = models.DateTimeField()
    summary_json = models.TextField()

    class Meta:
        ordering = ["attempt", "number"]
        constraints = [models.UniqueConstraint(fields=["period", "attempt", "number"], name="one_round_per_number")]

    @property
    def summary(self) -> dict:
        return json.loads(self.summary_json)

    @property
    def subject(self) -> str:
        return f"planning_round:{self.pk}"

    def record_state(self) -> dict:
        return {"period": self.period_id, "attempt": self.attempt, "number": self.number, "iterations": self.iterations,
                "balanced": self.balanced, "summary_sha256": hashlib.sha256(self.summary_json.encode()).hexdigest()}


class PlanningMode(models.Model):
    """How a council answers the rounds of a period: by its rule, or by hand through its planning delegate."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.PROTECT, related_name="modes")
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="+")
    by_hand = models.BooleanField(default=False)
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "council"], name="one_mode_per_council")]

    @property
    def subject(self) -> str:
        return f"planning_mode:{self.pk}"

    def record_state(self) -> dict:
        return {"period": self.period_id, "council": self.council_id, "by_hand": self.by_hand}


class HandProposal(models.Model):
    """A council's own proposal, typed by its planning delegate; it stands from its round until revised."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.PROTECT, related_name="hand_proposals")
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="+")
    round = models.PositiveIntegerField()
    attempt = models.PositiveSmallIntegerField(default=1)
    # workplace: {"<capability id>": units}; neighbourhood: {"<need id>": units}
    content_json = models.TextField()
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["round", "council_id"]
        constraints = [models.UniqueConstraint(fields=["period", "council", "attempt", "round"], name="one_hand_proposal_per_round")]

    @property
    def content(self) -> dict:
        return json.loads(self.content_json)

    @property
    def subject(self) -> str:
        return f"hand_proposal:{self.pk}"

    def record_state(self) -> dict:
        return {"period": self.period_id, "council": self.council_id, "round": self.round, "attempt": self.attempt,
                "content": self.content, "submitted_at": self.submitted_at}


class PartStatus(models.TextChoices):
    VOTING = "voting", gettext_lazy("Vote open")
    ACCEPTED = "accepted", gettext_lazy("Accepted")
    REJECTED = "rejected", gettext_lazy("Rejected")


class PlanPart(models.Model):
    """A council's part of a converged plan (a workplace's production, a neighbourhood's deliveries) and its vote on it."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.PROTECT, related_name="parts")
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="plan_parts")
    attempt = models.PositiveSmallIntegerField()
    vote = models.OneToOneField("decisions.Proposal", on_delete=models.PROTECT, related_name="plan_part")
    content_json = models.TextField()  # the part as put to the vote
    status = models.CharField(max_length=10, choices=PartStatus.choices, default=PartStatus.VOTING)
    objection = models.TextField(blank=True)  # published when the council rejects its part

    class Meta:
        ordering = ["attempt", "council__name"]
        constraints = [models.UniqueConstraint(fields=["period", "council", "attempt"], name="one_part_per_attempt")]

    @property
    def content(self) -> dict:
        return json.loads(self.content_json)

    @property
    def subject(self) -> str:
        return f"plan_part:{self.pk}"

    def record_state(self) -> dict:
        return {"period": self.period_id, "council": self.council_id, "attempt": self.attempt, "vote": self.vote_id,
                "content": self.content, "status": self.status, "objection": self.objection}
