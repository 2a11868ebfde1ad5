from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from councils.errors import Invalid
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy


class CouncilKind(models.TextChoices):
    WORKPLACE = "workplace", gettext_lazy("Workplace council")
    NEIGHBOURHOOD = "neighbourhood", gettext_lazy("Neighbourhood council")
    AGRICULTURAL = "agricultural", gettext_lazy("Agricultural council")
    OTHER = "other", gettext_lazy("Other council")
    FEDERATION = "federation", gettext_lazy("Federation")


class Admission(models.TextChoices):
    OPEN = "open", gettext_lazy("Open: anyone who asks joins at once")
    VOTE = "vote", gettext_lazy("By vote: the members decide each request")


class DecisionMethod(models.TextChoices):
    MAJORITY = "majority", gettext_lazy("Majority of votes cast")
    TWO_THIRDS = "two_thirds", gettext_lazy("Two thirds of votes cast")
    MAJORITY_OF_MEMBERS = "majority_of_members", gettext_lazy("Majority of all members")
    CONSENSUS = "consensus", gettext_lazy("Consensus (any block stops it)")
    APPROVAL = "approval", gettext_lazy("Approval (approve any number of options)")
    SCORE = "score", gettext_lazy("Score (rate every option)")
    IRV = "irv", gettext_lazy("Instant-runoff (ranked)")
    SCHULZE = "schulze", gettext_lazy("Schulze (ranked, Condorcet)")
    RANKED_PAIRS = "ranked_pairs", gettext_lazy("Ranked pairs (ranked, Condorcet)")
    STV = "stv", gettext_lazy("Single transferable vote (several seats)")
    STV_MEEK = "stv_meek", gettext_lazy("Meek STV (several seats, surpluses passed on exactly)")
    # Only ever the second round of a failed consensus, at the charter's fallback threshold.
    FALLBACK = "fallback", gettext_lazy("Fallback supermajority after a failed consensus")


YES_NO_METHODS = {DecisionMethod.MAJORITY, DecisionMethod.TWO_THIRDS, DecisionMethod.MAJORITY_OF_MEMBERS}
CONSENSUS_METHODS = {DecisionMethod.CONSENSUS, DecisionMethod.FALLBACK}
RANKED_METHODS = {DecisionMethod.IRV, DecisionMethod.SCHULZE, DecisionMethod.RANKED_PAIRS, DecisionMethod.STV,
                  DecisionMethod.STV_MEEK}
# The methods that fill several seats: Scottish STV and Meek STV.
STV_METHODS = {DecisionMethod.STV, DecisionMethod.STV_MEEK}
OPTION_METHODS = RANKED_METHODS | {DecisionMethod.APPROVAL, DecisionMethod.SCORE}
ALL_METHODS = [m for m in DecisionMethod.values if m != DecisionMethod.FALLBACK]


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

    @property
    def record_chain(self) -> str:
        """The name of the council's chain in the public record."""
        return f"council/{self.pk}"

    def record_state(self) -> dict:
        return {"name": self.name, "slug": self.slug, "kind": self.kind, "description": self.description,
                "created_at": self.created_at}


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
        help_text=gettext_lazy("Share of members who must take part for a vote to count."),
    )
    deliberation_period = models.DurationField(default=timedelta(days=3))
    voting_period = models.DurationField(default=timedelta(days=4))
    # Limits within which a proposal may set its own periods. The floors keep snap votes out: whoever sets the
    # deadlines (author, facilitator) cannot go under them; only the council's charter sets them.
    min_deliberation_period = models.DurationField(default=timedelta(days=2))
    min_voting_period = models.DurationField(default=timedelta(days=1))
    max_voting_period = models.DurationField(default=timedelta(days=90))
    # How far the author or an officer may postpone a proposal's close in all, beyond the close it was published with;
    # further needs the council's vote.
    max_postponement = models.DurationField(default=timedelta(days=30))
    allowed_methods = models.JSONField(default=list, blank=True, help_text=gettext_lazy("empty: every method"))
    consensus_fallback = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True,
        help_text=gettext_lazy("supermajority allowed on a second round after a failed consensus; empty: none"),
    )
    secret_ballots = models.BooleanField(default=False, help_text=gettext_lazy("every vote of this council is secret"))
    officer_term = models.DurationField(default=timedelta(days=365))
    # Rotation: how many consecutive terms in the same office one member may serve (checked when the seat is taken).
    officer_term_limit = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(50)], help_text=gettext_lazy("consecutive terms in one office"))
    # The yes/no method by which the council changes this charter: a supermajority by default, so that a bare
    # majority of a moment cannot rewrite the rules everyone votes under.
    charter_change_method = models.CharField(max_length=30, choices=[(m.value, m.label) for m in (
        DecisionMethod.MAJORITY, DecisionMethod.TWO_THIRDS, DecisionMethod.MAJORITY_OF_MEMBERS)],
        default=DecisionMethod.TWO_THIRDS)
    # How this council's delegates vote in its federations: as the council mandates, or at their discretion.
    mandate = models.CharField(max_length=10, choices=[("bound", gettext_lazy("Bound mandate")), ("free", gettext_lazy("Free mandate"))], default="bound")
    recall_threshold = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.200"),
        help_text=gettext_lazy("share of members whose signatures open a recall vote by itself"),
    )
    recall_replacement = models.CharField(
        max_length=12, choices=[("countback", gettext_lazy("Next candidate of the count")), ("by_election", gettext_lazy("By-election"))], default="countback"
    )

    def allows(self, method: str) -> bool:
        return method == DecisionMethod.FALLBACK or not self.allowed_methods or method in self.allowed_methods

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
            "min_deliberation_period_s": int(self.min_deliberation_period.total_seconds()),
            "min_voting_period_s": int(self.min_voting_period.total_seconds()),
            "max_voting_period_s": int(self.max_voting_period.total_seconds()),
            "max_postponement_s": int(self.max_postponement.total_seconds()),
            "allowed_methods": list(self.allowed_methods),
            "consensus_fallback": str(self.consensus_fallback) if self.consensus_fallback is not None else None,
            "secret_ballots": self.secret_ballots,
            "officer_term_s": int(self.officer_term.total_seconds()),
            "mandate": self.mandate,
            "recall_threshold": str(self.recall_threshold),
            "recall_replacement": self.recall_replacement,
            # only where changed from the default, so that entries written before these fields existed still match
            **({"officer_term_limit": self.officer_term_limit} if self.officer_term_limit != 2 else {}),
            **({"charter_change_method": self.charter_change_method}
               if self.charter_change_method != DecisionMethod.TWO_THIRDS else {}),
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
            "joined_at": self.joined_at,
            "left_at": self.left_at if self.left_at else None,
        }

    def __str__(self):
        return f"{self.member.username} in {self.council.name}"


class OfficeRole(models.TextChoices):
    FACILITATOR = "facilitator", gettext_lazy("Facilitator")
    SECRETARY = "secretary", gettext_lazy("Secretary")
    # Workplace roles: elected and recallable like any office, with no power over the council's decisions.
    COORDINATOR = "coordinator", gettext_lazy("Coordinator")
    PLANNING_DELEGATE = "planning_delegate", gettext_lazy("Delegate to the federation's planning")


# Councils that produce, and councils that state needs: who plans production together.
PRODUCING_KINDS = (CouncilKind.WORKPLACE, CouncilKind.AGRICULTURAL)
NEEDING_KINDS = (CouncilKind.NEIGHBOURHOOD,)


def check_office_for(council, office: str) -> None:
    """Which council may elect which office: workplace roles belong to the councils that plan, a coordinator to
    producers, a planning delegate to either side."""
    if office not in OfficeRole.values:
        raise Invalid(_("an election is for one of %(values)s") % {"values": ', '.join(OfficeRole.values)}, field="office")
    if office == OfficeRole.COORDINATOR and council.kind not in PRODUCING_KINDS:
        raise Invalid(_("a coordinator is elected by a workplace or agricultural council"), field="office")
    if office == OfficeRole.PLANNING_DELEGATE and council.kind not in PRODUCING_KINDS + NEEDING_KINDS:
        raise Invalid(_("a planning delegate is elected by a workplace, agricultural or neighbourhood council"), field="office")


class Office(models.Model):
    """A term of office, won in an election of the council. Procedural powers only: schedule and moderate."""

    council = models.ForeignKey(Council, on_delete=models.PROTECT, related_name="offices")
    role = models.CharField(max_length=20, choices=OfficeRole.choices)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offices")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    elected_by = models.ForeignKey("decisions.Decision", on_delete=models.PROTECT, related_name="offices")

    class Meta:
        ordering = ["role", "starts_at", "pk"]

    @property
    def subject(self) -> str:
        return f"office:{self.pk}"

    def record_state(self) -> dict:
        return {
            "council": self.council_id,
            "role": self.role,
            "holder": self.holder.username,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "ended_at": self.ended_at if self.ended_at else None,
            "elected_by": self.elected_by_id,
        }
