from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy


class FederationKind(models.TextChoices):
    """The kinds of vote the federation app owns (registered in ``federation.kinds``)."""

    AFFILIATION = "affiliation", gettext_lazy("Joining a federation")
    DISAFFILIATION = "disaffiliation", gettext_lazy("Leaving a federation")
    DELEGATE_ELECTION = "delegate_election", gettext_lazy("Election of delegates to a federation")
    MANDATE = "mandate", gettext_lazy("Mandate for a federation vote")
    RECALL = "recall", gettext_lazy("Recall of a delegate")
    FEDERATION_MOTION = "federation_motion", gettext_lazy("Federation decision")
    COMPETENCES = "competences", gettext_lazy("Amendment of the federation's competences")
    FEDERATION_CHARTER = "federation_charter", gettext_lazy("Change of the federation's charter")
    CONVOCATION = "convocation", gettext_lazy("Demand for a congress")
    CANCEL_CONGRESS = "cancel_congress", gettext_lazy("Demand to cancel a congress")
    REFERENDUM_DEMAND = "referendum_demand", gettext_lazy("Demand for a referendum")
    REFERENDUM = "referendum", gettext_lazy("Referendum")


class Weighting(models.TextChoices):
    EQUAL = "equal", gettext_lazy("One council, one vote")
    MEMBERS = "members", gettext_lazy("By number of members")
    DEGRESSIVE = "degressive", gettext_lazy("Degressive (square root of members)")


class Affiliation(models.Model):
    """A council's membership of a federation, begun and ended by the council's own decisions."""

    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="affiliations")
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="federations_joined")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    # The council's own decision to join (or the federation's admission vote). Null only for a council on another
    # server, whose decision is in its own server's record (the request message names it: ``joined_by_message``).
    joined_by = models.ForeignKey("decisions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    joined_by_message = models.CharField(max_length=64, blank=True)
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
            "joined_at": self.joined_at,
            "left_at": self.left_at if self.left_at else None,
        }


class FederationCharter(models.Model):
    """What a federation may decide and how its member councils weigh. Changed only by the member councils' mandated vote."""

    federation = models.OneToOneField("assemblies.Council", on_delete=models.PROTECT, related_name="federation_charter")
    competences = models.JSONField(default=list, blank=True, help_text=gettext_lazy("the matters the federation decides; nothing else"))
    weighting = models.CharField(max_length=12, choices=Weighting.choices, default=Weighting.EQUAL)
    mandate_split = models.BooleanField(default=False, help_text=gettext_lazy("split a council's weight in proportion to its members' votes"))
    delegate_seats = models.PositiveSmallIntegerField(default=1)
    delegate_term = models.DurationField(default=timedelta(days=365))
    delegate_term_limit = models.PositiveSmallIntegerField(default=2, help_text=gettext_lazy("consecutive terms"))
    mandate_period = models.DurationField(default=timedelta(days=7), help_text=gettext_lazy("time member councils have to vote their mandates"))
    convocation_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.333"))
    convocation_delay = models.DurationField(default=timedelta(days=14))
    referendum_council_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.333"))
    referendum_member_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.100"))

    @property
    def subject(self) -> str:
        return f"federation_charter:{self.federation_id}"

    def record_state(self) -> dict:
        return {
            "competences": list(self.competences),
            "weighting": self.weighting,
            "mandate_split": self.mandate_split,
            "delegate_seats": self.delegate_seats,
            "delegate_term_s": int(self.delegate_term.total_seconds()),
            "delegate_term_limit": self.delegate_term_limit,
            "mandate_period_s": int(self.mandate_period.total_seconds()),
            "convocation_share": str(self.convocation_share),
            "convocation_delay_s": int(self.convocation_delay.total_seconds()),
            "referendum_council_share": str(self.referendum_council_share),
            "referendum_member_share": str(self.referendum_member_share),
        }


class Delegate(models.Model):
    """A seat of a member council at a federation, held by a member the council elected."""

    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="delegates")
    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="delegates_received")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=80, blank=True)  # recalled, council left, member left, replaced
    elected_by = models.ForeignKey("decisions.Decision", on_delete=models.PROTECT, related_name="delegates")

    class Meta:
        ordering = ["starts_at", "pk"]

    def __str__(self):
        return f"{self.member.username} ({self.council.name} at {self.federation.name})"

    def active(self, now) -> bool:
        return self.ended_at is None and self.starts_at <= now < self.ends_at

    @property
    def subject(self) -> str:
        return f"delegate:{self.pk}"

    def record_state(self) -> dict:
        return {
            "council": self.council_id,
            "federation": self.federation_id,
            "member": self.member.username,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "ended_at": self.ended_at if self.ended_at else None,
            "end_reason": self.end_reason,
            "elected_by": self.elected_by_id,
        }


class FederationBallot(models.Model):
    """A member council's vote in its federation, carried by its delegate: as mandated, or (free mandate) at their discretion."""

    proposal = models.ForeignKey("decisions.Proposal", on_delete=models.PROTECT, related_name="federation_ballots")
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="+")
    delegate = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    weight = models.FloatField()
    # yes/no: the weight split between yes, no and abstain; ranked: a ranking of option ids.
    yes = models.FloatField(default=0)
    no = models.FloatField(default=0)
    abstain = models.FloatField(default=0)
    ranking_json = models.TextField(blank=True)
    mandated = models.BooleanField()
    mandate = models.ForeignKey("decisions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cast_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "council"], name="one_federation_ballot_per_council")]

    @property
    def subject(self) -> str:
        return f"federation_ballot:{self.pk}"

    def record_state(self) -> dict:
        return {
            "proposal": self.proposal_id, "council": self.council_id,
            "delegate": self.delegate.username if self.delegate_id else None, "weight": self.weight,
            "yes": self.yes, "no": self.no, "abstain": self.abstain, "ranking": self.ranking_json or None,
            "mandated": self.mandated, "mandate": self.mandate_id,
        }


class RecallPetition(models.Model):
    delegate = models.ForeignKey(Delegate, on_delete=models.PROTECT, related_name="recall_petitions")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    vote = models.OneToOneField("decisions.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="recall_petition")
    # Why its opener asks for the recall, shown to the members who are asked to sign (empty only for older petitions).
    reason = models.TextField(blank=True, default="")

    @property
    def subject(self) -> str:
        return f"recall_petition:{self.pk}"

    def record_state(self) -> dict:
        state = {"delegate": self.delegate_id, "opened_by": self.opened_by.username, "vote": self.vote_id,
                 "opened_at": self.opened_at}
        if self.reason:  # absent when empty, so petitions recorded before reasons existed still verify
            state["reason"] = self.reason
        return state

    def __str__(self):
        return f"recall of {self.delegate.member.username}"


class Signature(models.Model):
    """A member's signature on a recall petition or a referendum petition."""

    recall = models.ForeignKey(RecallPetition, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures")
    petition = models.ForeignKey("Petition", null=True, blank=True, on_delete=models.PROTECT, related_name="signatures")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recall", "member"], condition=Q(recall__isnull=False), name="one_recall_signature"),
            models.UniqueConstraint(fields=["petition", "member"], condition=Q(petition__isnull=False), name="one_petition_signature"),
        ]

    @property
    def subject(self) -> str:
        return f"signature:{self.pk}"

    def record_state(self) -> dict:
        return {"recall": self.recall_id, "petition": self.petition_id, "member": self.member.username,
                "signed_at": self.signed_at}


class Petition(models.Model):
    """A demand to a federation: a congress, the cancellation of one, or a referendum.

    Councils back it each by its own decision (CouncilDemand); a referendum petition
    may also gather the signatures of individual members of the member councils.
    """

    KINDS = [("convocation", "Congress"), ("cancel_congress", "Cancel a congress"), ("referendum", "Referendum")]
    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="petitions")
    kind = models.CharField(max_length=20, choices=KINDS)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    target = models.ForeignKey("decisions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    congress = models.ForeignKey("Congress", null=True, blank=True, on_delete=models.PROTECT, related_name="cancel_petitions")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    result = models.ForeignKey("decisions.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-opened_at", "pk"]

    @property
    def subject(self) -> str:
        return f"petition:{self.pk}"

    def record_state(self) -> dict:
        return {
            "federation": self.federation_id, "kind": self.kind, "title": self.title, "body": self.body,
            "opened_at": self.opened_at, "target": self.target_id, "congress": self.congress_id,
            "opened_by": self.opened_by.username if self.opened_by_id else None,
            "fulfilled_at": self.fulfilled_at if self.fulfilled_at else None, "result": self.result_id,
        }

    def __str__(self):
        return self.title


class CouncilDemand(models.Model):
    """A member council's own decision to back a petition."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="demands")
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="+")
    decision = models.OneToOneField("decisions.Decision", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["petition", "council"], name="one_demand_per_council")]

    @property
    def subject(self) -> str:
        return f"demand:{self.pk}"

    def record_state(self) -> dict:
        return {"petition": self.petition_id, "council": self.council_id, "decision": self.decision_id}


class Congress(models.Model):
    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="congresses")
    title = models.CharField(max_length=200)
    convened_at = models.DateTimeField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    convened_by = models.CharField(max_length=20)  # "petition" or "decision"
    petition = models.ForeignKey(Petition, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    minutes = models.TextField(blank=True)
    minutes_approved_by = models.ForeignKey("decisions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    current_item = models.ForeignKey("decisions.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-starts_at", "pk"]

    @property
    def subject(self) -> str:
        return f"congress:{self.pk}"

    def record_state(self) -> dict:
        return {
            "federation": self.federation_id, "title": self.title, "starts_at": self.starts_at, "convened_at": self.convened_at,
            "ends_at": self.ends_at, "convened_by": self.convened_by, "petition": self.petition_id,
            "cancelled_at": self.cancelled_at if self.cancelled_at else None, "minutes": self.minutes,
            "minutes_approved_by": self.minutes_approved_by_id, "current_item": self.current_item_id,
        }

    def __str__(self):
        return self.title


class AgendaItem(models.Model):
    congress = models.ForeignKey(Congress, on_delete=models.PROTECT, related_name="agenda")
    proposal = models.ForeignKey("decisions.Proposal", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["congress", "proposal"], name="agenda_item_once")]

    @property
    def subject(self) -> str:
        return f"agenda_item:{self.pk}"

    def record_state(self) -> dict:
        return {"congress": self.congress_id, "proposal": self.proposal_id, "position": self.position}


class Attendance(models.Model):
    congress = models.ForeignKey(Congress, on_delete=models.PROTECT, related_name="attendance")
    delegate = models.ForeignKey(Delegate, on_delete=models.PROTECT, related_name="+")
    present_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["congress", "delegate"], name="attend_once")]

    @property
    def subject(self) -> str:
        return f"attendance:{self.pk}"

    def record_state(self) -> dict:
        return {"congress": self.congress_id, "delegate": self.delegate_id, "present_at": self.present_at}


class Speaker(models.Model):
    """A place on the speakers list."""

    congress = models.ForeignKey(Congress, on_delete=models.PROTECT, related_name="speakers")
    item = models.ForeignKey("decisions.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    limit_seconds = models.PositiveIntegerField(default=180)

    class Meta:
        ordering = ["requested_at", "pk"]

    @property
    def subject(self) -> str:
        return f"speaker:{self.pk}"

    def record_state(self) -> dict:
        return {
            "congress": self.congress_id, "item": self.item_id, "member": self.member.username, "requested_at": self.requested_at,
            "started_at": self.started_at if self.started_at else None,
            "ended_at": self.ended_at if self.ended_at else None, "limit_seconds": self.limit_seconds,
        }


# ----- federation across servers (``councils.federation.remote``) ------------------------------------------------


class Peer(models.Model):
    """A server this one knows by its key: added by the operator (``councils peer add URL``), its key pinned on first
    contact (trust on first use). Messages are accepted only from peers, and checked against the pinned key."""

    name = models.CharField(max_length=200, unique=True)  # the server's note key name (its checkpoints' origin)
    url = models.URLField(max_length=300, unique=True)  # its base URL, without a trailing slash
    vkey = models.CharField(max_length=400)  # C2SP signed-note verifier key: <name>+<key ID>+<base64 key>
    key_id = models.CharField(max_length=220, unique=True)  # <name>+<key ID>: the RFC 9421 keyid its messages carry
    first_seen = models.DateTimeField()
    added_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RemoteCouncil(models.Model):
    """A council that lives on another server, as this server knows it: a stand-in ``Council`` row (so a local
    council's affiliation, or a federation's member list, names it like any other) tied to its home server."""

    council = models.OneToOneField("assemblies.Council", on_delete=models.PROTECT, related_name="remote")
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="councils")
    remote_slug = models.SlugField(max_length=140)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "remote_slug"], name="one_stand_in_per_remote_council")]


class OutboxStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Waiting to be delivered")
    DELIVERED = "delivered", gettext_lazy("Delivered")
    FAILED = "failed", gettext_lazy("Cannot be delivered")


class OutboxMessage(models.Model):
    """A message to a peer, written in the same transaction as the act it carries; the worker delivers it, in order
    per peer, with retries and exponential backoff. ``body`` is the canonical JSON (RFC 8785) that is sent."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="outbox")
    # The council here whose act the message carries (its page shows the message's fate); null for a server's own.
    council = models.ForeignKey("assemblies.Council", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="messages_sent")
    message_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=60)
    body = models.TextField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["peer", "status", "id"])]


class InboxMessage(models.Model):
    """A message received from a peer and applied: kept so that a message delivered twice is applied once."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="inbox")
    message_id = models.CharField(max_length=64)
    type = models.CharField(max_length=60)
    body = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["peer", "message_id"], name="one_message_per_id")]


class RemoteMandate(models.Model):
    """A mandate vote here on a proposal of a federation on another server: where the mandated ballot goes."""

    mandate = models.OneToOneField("decisions.Proposal", on_delete=models.PROTECT, related_name="remote_target")
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="+")
    federation = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="+")  # the stand-in
    remote_proposal = models.PositiveIntegerField()  # the federation proposal's id on its server
