from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse

from councils.decisions import kinds
from councils.assemblies.models import CONSENSUS_METHODS, OPTION_METHODS, RANKED_METHODS, YES_NO_METHODS, DecisionMethod
from django.utils.translation import gettext_lazy


class ProposalKind(models.TextChoices):
    """The kinds of vote decisions owns; the other apps name theirs (``FederationKind``, ``EconomyKind``) and every
    kind is registered in ``decisions.kinds``, which gives the field its choices."""

    MOTION = "motion", gettext_lazy("Motion")
    ADMISSION = "admission", gettext_lazy("Admission of a member")
    REMOVAL = "removal", gettext_lazy("Removal of a member")
    AMENDMENT = "amendment", gettext_lazy("Amendment")
    ELECTION = "election", gettext_lazy("Election of officers")
    APPEAL = "appeal", gettext_lazy("Appeal against hiding a comment")
    CHARTER = "charter", gettext_lazy("Change of the charter")
    POSTPONEMENT = "postponement", gettext_lazy("Postponement of a proposal")
    MOVE = "move", gettext_lazy("Move to another server")


class ProposalState(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Draft")
    DELIBERATION = "deliberation", gettext_lazy("In deliberation")
    VOTING = "voting", gettext_lazy("Voting open")
    CLOSED = "closed", gettext_lazy("Voting closed")
    WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")
    ACCEPTED = "accepted", gettext_lazy("Accepted by the author")  # amendments only


class Choice(models.TextChoices):
    YES = "yes", gettext_lazy("Yes")
    NO = "no", gettext_lazy("No")
    ABSTAIN = "abstain", gettext_lazy("Abstain")
    AGREE = "agree", gettext_lazy("Agree")
    STAND_ASIDE = "stand_aside", gettext_lazy("Stand aside")
    BLOCK = "block", gettext_lazy("Block")


YES_NO_CHOICES = (Choice.YES, Choice.NO, Choice.ABSTAIN)
CONSENSUS_CHOICES = (Choice.AGREE, Choice.STAND_ASIDE, Choice.BLOCK)


class Proposal(models.Model):
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(max_length=20, choices=kinds.choices, default=ProposalKind.MOTION)
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
    # An amendment's main proposal; a fallback round's failed consensus.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments")
    fallback_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="fallback")
    # An amendment replaces one passage of its main proposal's text.
    passage = models.TextField(blank=True)
    replacement = models.TextField(blank=True)
    office = models.CharField(max_length=20, blank=True)  # elections: the office elected
    comment = models.ForeignKey("Comment", null=True, blank=True, on_delete=models.PROTECT, related_name="appeals")
    # Federation: the federation proposal this council's vote sets its mandate for; the depth below the top.
    mandate_for = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="mandates")
    level = models.PositiveSmallIntegerField(default=0)
    matter = models.CharField(max_length=200, blank=True)  # the federation competence a federation motion falls under
    competences_json = models.TextField(blank=True)  # a competences amendment: the new list
    delegate = models.ForeignKey("federation.Delegate", null=True, blank=True, on_delete=models.PROTECT, related_name="recall_votes")
    congress = models.ForeignKey("federation.Congress", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    petition = models.ForeignKey("federation.Petition", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    overrules = models.ForeignKey("Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="overruled_by")
    # Moderation: an officer may hide a proposal's text (its body; an amendment's passage and replacement too), with a
    # reason shown in its place; the title stays. An appeal names the proposal whose text it would restore.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    hidden_reason = models.TextField(blank=True)
    hidden_proposal = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="text_appeals")
    # Economy: what is voted on (a catalogue change, a needs list, a period's terms), frozen when proposed.
    payload_json = models.TextField(blank=True)
    plan_period = models.ForeignKey("economy.PlanPeriod", null=True, blank=True, on_delete=models.PROTECT, related_name="votes")
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)  # null: a draft, seen by its author only
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    deliberation_ends = models.DateTimeField()
    voting_ends = models.DateTimeField(db_index=True)
    # The rule is fixed when the proposal is made, so changing the charter later
    # cannot change how an open vote is counted.
    decision_method = models.CharField(max_length=30)
    quorum = models.DecimalField(max_digits=4, decimal_places=3)
    seats = models.PositiveSmallIntegerField(default=1)
    max_score = models.PositiveSmallIntegerField(default=5)
    secret = models.BooleanField(default=False)
    consensus_fallback = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)

    RECORDED_FILTER = {"published_at__isnull": False}

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("proposal", args=[self.council.slug, self.pk])

    def state(self, now: datetime) -> str:
        if self.published_at is None:
            return ProposalState.DRAFT
        if self.withdrawn_at is not None:
            return ProposalState.WITHDRAWN
        if self.accepted_at is not None:
            return ProposalState.ACCEPTED
        if now < self.deliberation_ends:
            return ProposalState.DELIBERATION
        if now < self.voting_ends:
            return ProposalState.VOTING
        return ProposalState.CLOSED

    @property
    def decision_method_label(self) -> str:
        return DecisionMethod(self.decision_method).label

    @property
    def is_yes_no(self) -> bool:
        return self.decision_method in YES_NO_METHODS

    @property
    def is_consensus(self) -> bool:
        return self.decision_method in CONSENSUS_METHODS

    @property
    def is_ranked(self) -> bool:
        return self.decision_method in RANKED_METHODS

    @property
    def has_options(self) -> bool:
        return self.decision_method in OPTION_METHODS

    @property
    def allows_ties(self) -> bool:
        return self.decision_method in (DecisionMethod.SCHULZE, DecisionMethod.RANKED_PAIRS)

    @property
    def subject(self) -> str:
        return f"proposal:{self.pk}"

    def record_state(self) -> dict:
        return {
            "council": self.council_id,
            "kind": self.kind,
            "title": self.title,
            # Texts are kept beside the chain, referenced by hash, so that moderation can hide them (record.Content).
            "body": _text_ref(self.subject, self.body),
            "author": self.author.username,
            "subject_member": self.subject_member.username if self.subject_member_id else None,
            "federation": self.federation_id,
            "parent": self.parent_id,
            "fallback_of": self.fallback_of_id,
            "passage": _text_ref(self.subject, self.passage),
            "replacement": _text_ref(self.subject, self.replacement),
            "office": self.office,
            "comment": self.comment_id,
            "mandate_for": self.mandate_for_id,
            "level": self.level,
            "matter": self.matter,
            "competences": json.loads(self.competences_json) if self.competences_json else None,
            "delegate": self.delegate_id,
            "congress": self.congress_id,
            "petition": self.petition_id,
            "overrules": self.overrules_id,
            "created_at": self.created_at,
            "published_at": self.published_at if self.published_at else None,
            "withdrawn_at": self.withdrawn_at if self.withdrawn_at else None,
            "accepted_at": self.accepted_at if self.accepted_at else None,
            "deliberation_ends": self.deliberation_ends,
            "voting_ends": self.voting_ends,
            "decision_method": self.decision_method,
            "quorum": str(self.quorum),
            "seats": self.seats,
            "max_score": self.max_score,
            "secret": self.secret,
            "consensus_fallback": str(self.consensus_fallback) if self.consensus_fallback is not None else None,
            "options": [option.record_state() for option in self.options.all()],
            # only where set, so that entries written before these fields existed still match
            **({"payload": json.loads(self.payload_json)} if self.payload_json else {}),
            **({"plan_period": self.plan_period_id} if self.plan_period_id else {}),
            **({"hidden_at": self.hidden_at.isoformat(), "hidden_by": self.hidden_by.username if self.hidden_by_id else None,
                "hidden_reason": self.hidden_reason} if self.hidden_at else {}),
            **({"hidden_proposal": self.hidden_proposal_id} if self.hidden_proposal_id else {}),
        }

    @property
    def text_hidden(self) -> bool:
        return self.hidden_at is not None

    def public_text(self, name: str) -> str:
        """``body``, ``passage`` or ``replacement`` as every public view shows it: empty while moderation hides it."""
        return "" if self.hidden_at is not None else getattr(self, name)

    @property
    def payload(self):
        return json.loads(self.payload_json) if self.payload_json else None


class Option(models.Model):
    """An option or a candidate. Fixed when the proposal is published."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="options")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "position"], name="option_position_unique"),
            models.UniqueConstraint(fields=["proposal", "label"], name="option_label_unique"),
        ]

    def __str__(self):
        return self.label

    def record_state(self) -> dict:
        return {"id": self.pk, "label": self.label, "description": self.description,
                "member": self.member.username if self.member_id else None}


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()
    # Moderation hides, never deletes: the reason is shown in its place and any member may appeal.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    hidden_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    @property
    def subject(self) -> str:
        return f"comment:{self.pk}"

    def record_state(self) -> dict:
        return {
            "proposal": self.proposal_id, "author": self.author.username, "body": _text_ref(self.subject, self.body),
            "created_at": self.created_at, "hidden_at": self.hidden_at if self.hidden_at else None,
            "hidden_by": self.hidden_by.username if self.hidden_by_id else None,
            "hidden_reason": self.hidden_reason,
        }

    def __str__(self):
        return f"comment by {self.author.username}"


class Report(models.Model):
    """A member's report of a comment or a proposal's text to the council's officers, with a reason."""

    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    @property
    def subject(self) -> str:
        return f"report:{self.pk}"

    def record_state(self) -> dict:
        return {"comment": self.comment_id, "proposal": self.proposal_id, "reporter": self.reporter.username,
                "reason": self.reason}


def _text_ref(subject: str, text: str):
    from councils.record.services import content_ref

    return content_ref(subject, text) if text else ""


class Ballot(models.Model):
    """An open ballot: who voted what is visible to members and in the record.

    ``choice`` holds yes/no/abstain or agree/stand aside/block; ``content_json``
    holds approvals (a list of option ids), scores ({option id: score}) or a
    ranking (a list of groups of option ids, best first).
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ballots")
    choice = models.CharField(max_length=12, choices=Choice.choices, blank=True)
    content_json = models.TextField(blank=True)
    reason = models.TextField(blank=True)  # a block needs one
    cast_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "voter"], name="one_ballot_per_voter")]

    @property
    def content(self):
        return json.loads(self.content_json) if self.content_json else None

    @property
    def subject(self) -> str:
        return f"ballot:{self.pk}"

    def record_state(self) -> dict:
        return {"proposal": self.proposal_id, "voter": self.voter.username, "choice": self.choice,
                "content": self.content, "reason": self.reason, "cast_at": self.cast_at, "changed_at": self.changed_at}


class VoterRegister(models.Model):
    """Who has voted in a secret vote, and nothing about how."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="register")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField()
    # HMAC (under a key kept out of the database) of the voter's receipt: lets the count leave out the ballot of a
    # voter who is no longer a member at the close; the database alone cannot tell which ballot it names.
    link = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "voter"], name="one_registration_per_voter")]

    @property
    def subject(self) -> str:
        return f"register:{self.pk}"

    def record_state(self) -> dict:
        return {"proposal": self.proposal_id, "voter": self.voter.username, **({"link": self.link} if self.link else {})}


class SecretBallot(models.Model):
    """A secret ballot. Deliberately no voter, no time and a random key: nothing in the row leads to who cast it.

    The voter holds a secret; its SHA-256 finds the ballot to change it, and its
    receipt (derived from the secret) is published with the contents after the close.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="secret_ballots")
    receipt = models.CharField(max_length=32, unique=True)
    secret_digest = models.CharField(max_length=64, unique=True)
    choice = models.CharField(max_length=12, choices=Choice.choices, blank=True)
    content_json = models.TextField(blank=True)
    reason = models.TextField(blank=True)

    @property
    def content(self):
        return json.loads(self.content_json) if self.content_json else None


class Outcome(models.TextChoices):
    ADOPTED = "adopted", gettext_lazy("Adopted")
    REJECTED = "rejected", gettext_lazy("Rejected")
    NO_QUORUM = "no_quorum", gettext_lazy("No quorum")
    DECIDED = "decided", gettext_lazy("Decided")  # options or candidates chosen
    NO_RESULT = "no_result", gettext_lazy("No result (no valid ballots)")


class Decision(models.Model):
    """The frozen result of a vote."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    # Floats: in a federation a council's weight may be a square root or a share of its votes.
    yes = models.FloatField(default=0)
    no = models.FloatField(default=0)
    abstain = models.FloatField(default=0)
    blocks = models.FloatField(default=0)
    ballots = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField()
    quorum_met = models.BooleanField()
    decided_at = models.DateTimeField()
    winners_json = models.TextField(default="[]")
    tally_json = models.TextField()
    # SHA-256 over the canonical list of every ballot counted: re-count and compare.
    ballots_digest = models.CharField(max_length=64, blank=True)

    @property
    def subject(self) -> str:
        return f"decision:{self.pk}"

    @property
    def winners(self) -> list[str]:
        return json.loads(self.winners_json)

    @property
    def tally(self) -> dict:
        return json.loads(self.tally_json)

    @property
    def cast(self) -> int:
        return self.ballots

    @property
    def turnout(self) -> float:
        return self.ballots / self.members if self.members else 0.0

    def record_state(self) -> dict:
        return {
            "proposal": self.proposal_id,
            "outcome": self.outcome,
            "yes": self.yes,
            "no": self.no,
            "abstain": self.abstain,
            "blocks": self.blocks,
            "ballots": self.ballots,
            "members": self.members,
            "quorum_met": self.quorum_met,
            "decided_at": self.decided_at,
            "winners": self.winners,
            "tally": self.tally,
            "ballots_digest": self.ballots_digest,
        }

    def __str__(self):
        return f"decision on {self.proposal.title}"


class MinorityReport(models.Model):
    """A statement of members on the losing side, attached to the decision for good."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="minority_reports")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["decision", "author"], name="one_minority_report_per_member")]

    @property
    def subject(self) -> str:
        return f"minority_report:{self.pk}"

    def record_state(self) -> dict:
        return {"decision": self.decision_id, "author": self.author.username, "body": self.body, "created_at": self.created_at}
