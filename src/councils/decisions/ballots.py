"""What a ballot may contain for each method, and how a vote's ballots become the tally engine's input.

Kept apart from the services so the API, the pages and the downloads read
ballots the same way the count does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction

from councils.assemblies.models import DecisionMethod
from councils.decisions.models import CONSENSUS_CHOICES, YES_NO_CHOICES, Choice, Proposal
from councils.errors import Invalid, refuse_control_characters
from councils.record.chain import canonical_json
from django.utils.formats import number_format
from django.utils.translation import gettext as _

MAX_REASON = 5_000


@dataclass(frozen=True)
class Vote:
    """A validated ballot: ``choice`` for yes/no and consensus, ``content`` for the option methods."""

    choice: str = ""
    content: object = None  # approvals: [ids]; scores: {id: int}; ranking: [[ids]]
    reason: str = ""

    def content_json(self) -> str:
        return "" if self.content is None else canonical_json(self.content).decode("utf-8")


def clean_vote(proposal: Proposal, vote, option_ids: list[int]) -> Vote:
    """Validate ``vote`` (a choice string, or a dict with choice/reason/approvals/scores/ranking) for this proposal."""
    if isinstance(vote, str):
        vote = {"choice": vote}
    if not isinstance(vote, dict):
        raise Invalid(_("a ballot is a choice or a set of approvals, scores or a ranking"), field="choice")
    method = proposal.decision_method
    reason = refuse_control_characters((vote.get("reason") or "").strip(), "reason")
    if len(reason) > MAX_REASON:
        raise Invalid(_("a reason has at most %(max_reason)s characters") % {"max_reason": number_format(MAX_REASON, force_grouping=True)}, field="reason")
    if proposal.is_yes_no:
        choice = vote.get("choice")
        if choice not in YES_NO_CHOICES:
            raise Invalid(_("choose yes, no or abstain"), field="choice")
        return Vote(choice=choice, reason=reason)  # e.g. the objection a no to a plan part publishes
    if proposal.is_consensus:
        choice = vote.get("choice")
        if choice not in CONSENSUS_CHOICES:
            raise Invalid(_("choose agree, stand aside or block"), field="choice")
        if choice == Choice.BLOCK and not reason:
            raise Invalid(_("a block needs a written reason, shown to all"), field="reason")
        return Vote(choice=choice, reason=reason if choice == Choice.BLOCK else reason)
    valid = set(option_ids)
    if method == DecisionMethod.APPROVAL:
        approvals = vote.get("approvals")
        if not isinstance(approvals, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in approvals):
            raise Invalid(_("approvals is a list of option ids"), field="approvals")
        if set(approvals) - valid:
            raise Invalid(_("unknown option %(value)s") % {"value": sorted(set(approvals) - valid)[0]}, field="approvals")
        return Vote(content=sorted(set(approvals)))
    if method == DecisionMethod.SCORE:
        scores = vote.get("scores")
        if not isinstance(scores, dict):
            raise Invalid(_("scores maps option ids to scores"), field="scores")
        clean = {}
        for key, value in scores.items():
            try:
                option = int(key)
            except (TypeError, ValueError):
                raise Invalid(_("unknown option %(key)s") % {"key": repr(key)}, field="scores") from None
            if option not in valid:
                raise Invalid(_("unknown option %(key)s") % {"key": repr(key)}, field="scores")
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= proposal.max_score:
                raise Invalid(_("a score is a whole number from 0 to %(max_score)s") % {"max_score": proposal.max_score}, field="scores")
            clean[str(option)] = value
        return Vote(content=clean)
    # Ranked methods.
    ranking = vote.get("ranking")
    if not isinstance(ranking, list):
        raise Invalid(_("ranking is a list of option ids, best first"), field="ranking")
    groups, seen = [], set()
    for group in ranking:
        group = group if isinstance(group, list) else [group]
        if not group or not all(isinstance(i, int) and not isinstance(i, bool) for i in group):
            raise Invalid(_("ranking is a list of option ids (or lists of tied ids), best first"), field="ranking")
        if len(group) > 1 and not proposal.allows_ties:
            raise Invalid(_("this method needs a strict order: no two options at the same rank"), field="ranking")
        for option in group:
            if option not in valid:
                raise Invalid(_("unknown option %(option)s") % {"option": option}, field="ranking")
            if option in seen:
                raise Invalid(_("each option may be ranked only once"), field="ranking")
            seen.add(option)
        groups.append(sorted(group))
    return Vote(content=groups)


def digest(rows: list[dict]) -> str:
    return hashlib.sha256(canonical_json(rows)).hexdigest()


def engine_input(proposal: Proposal, ballots: list[dict], labels: dict[int, str]):
    """Ballots (dicts with choice/content) in the form the engine's function for this method takes."""
    method = proposal.decision_method
    if method == DecisionMethod.APPROVAL:
        return [{labels[i] for i in (b["content"] or [])} for b in ballots]
    if method == DecisionMethod.SCORE:
        order = list(labels)
        return [[(b["content"] or {}).get(str(i), 0) for i in order] for b in ballots]
    # Ranked: each group of ids becomes a label, or a tuple of tied labels.
    rankings = []
    for b in ballots:
        groups = b["content"] or []
        if groups:
            rankings.append([labels[g[0]] if len(g) == 1 else tuple(labels[i] for i in g) for g in groups])
    return rankings


def fraction(value) -> Fraction:
    return Fraction(str(value))


def ballots_for_display(proposal: Proposal, ballots: list[dict], labels: dict[int, str]) -> list[str]:
    """One readable line per ballot, for pages and CSV."""
    lines = []
    for b in ballots:
        if proposal.is_yes_no or proposal.is_consensus:
            text = Choice(b["choice"]).label + (f" ({b['reason']})" if b.get("reason") else "")
        elif proposal.decision_method == DecisionMethod.APPROVAL:
            text = ", ".join(labels[i] for i in b["content"] or []) or "(no approval)"
        elif proposal.decision_method == DecisionMethod.SCORE:
            text = ", ".join(f"{labels[int(i)]}: {s}" for i, s in (b["content"] or {}).items()) or "(no score)"
        else:
            text = " > ".join(" = ".join(labels[i] for i in g) for g in b["content"] or []) or "(empty)"
        lines.append(text)
    return lines


def as_json(value) -> str:
    return json.dumps(value, sort_keys=True)
