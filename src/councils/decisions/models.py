from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse


class ProposalKind(models.TextChoices):
    MOTION = "motion", "Motion"
    ADMISSION = "admission", "Admission of a member"
    REMOVAL = "removal", "Removal of a member"
    AFFILIATION = "affiliation", "Joining a federation"
    DISAFFILIATION = "disaffiliation", "Leaving a federation"


class ProposalState(models.TextChoices):
    DELIBERATION = "deliberation", "In deliberation"
    VOTING = "voting", "Voting open"
    CLOSED = "closed", "Voting closed"


class Choice(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    ABSTAIN = "abstain", "Abstain"


class Proposal(models.Model):
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(max_length=20, choices=ProposalKind.choices, default=ProposalKind.MOTION)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals")
    # The member to admit or remove, for those kinds.
    subject_member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The federation to join or leave, for those kinds.
    federation = models.ForeignKey(
        "assemblies.Council", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    deliberation_ends = models.DateTimeField()
    voting_ends = models.DateTimeField(db_index=True)
    # The rule is fixed when the proposal is made, so changing the charter later
    # cannot change how an open vote is counted.
    decision_method = models.CharField(max_length=30)
    quorum = models.DecimalField(max_digits=4, decimal_places=3)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("proposal", args=[self.council.slug, self.pk])

    def state(self, now: datetime) -> str:
        if now < self.deliberation_ends:
            return ProposalState.DELIBERATION
        if now < self.voting_ends:
            return ProposalState.VOTING
        return ProposalState.CLOSED

    @property
    def decision_method_label(self) -> str:
        from councils.assemblies.models import DecisionMethod

        return DecisionMethod(self.decision_method).label

    @property
    def subject(self) -> str:
        return f"proposal:{self.pk}"

    def record_state(self) -> dict:
        return {
            "council": self.council_id,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "author": self.author.username,
            "subject_member": self.subject_member.username if self.subject_member_id else None,
            "federation": self.federation_id,
            "deliberation_ends": self.deliberation_ends.isoformat(),
            "voting_ends": self.voting_ends.isoformat(),
            "decision_method": self.decision_method,
            "quorum": str(self.quorum),
        }


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    @property
    def subject(self) -> str:
        return f"comment:{self.pk}"

    def record_state(self) -> dict:
        return {"proposal": self.proposal_id, "author": self.author.username, "body": self.body}


class Ballot(models.Model):
    """An open ballot: who voted what is visible to members and in the record."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ballots")
    choice = models.CharField(max_length=10, choices=Choice.choices)
    cast_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "voter"], name="one_ballot_per_voter")]

    @property
    def subject(self) -> str:
        return f"ballot:{self.pk}"

    def record_state(self) -> dict:
        return {"proposal": self.proposal_id, "voter": self.voter.username, "choice": self.choice}


class Outcome(models.TextChoices):
    ADOPTED = "adopted", "Adopted"
    REJECTED = "rejected", "Rejected"
    NO_QUORUM = "no_quorum", "No quorum"


class Decision(models.Model):
    """The frozen result of a vote."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    yes = models.PositiveIntegerField()
    no = models.PositiveIntegerField()
    abstain = models.PositiveIntegerField()
    members = models.PositiveIntegerField()
    quorum_met = models.BooleanField()
    decided_at = models.DateTimeField()
    tally_json = models.TextField()

    @property
    def subject(self) -> str:
        return f"decision:{self.pk}"

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain

    @property
    def turnout(self) -> float:
        return self.cast / self.members if self.members else 0.0

    def record_state(self) -> dict:
        return {
            "proposal": self.proposal_id,
            "outcome": self.outcome,
            "yes": self.yes,
            "no": self.no,
            "abstain": self.abstain,
            "members": self.members,
            "quorum_met": self.quorum_met,
            "decided_at": self.decided_at.isoformat(),
        }
