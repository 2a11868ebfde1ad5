"""Appending to and verifying the stored chains.

``append`` is called by every service function inside its own transaction, so
an act and its record entry are written together or not at all.
"""

from __future__ import annotations

import json
from importlib import import_module
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from django.apps import apps
from django.db import connection

from councils.record.chain import ChainBreak, canonical_json, next_entry, verify_chain
from councils.record.models import RecordEntry, chain_name

# Every model whose rows the record vouches for. Each has ``subject`` and
# ``record_state()``; verification compares every row with the last state the
# record wrote for it, so an edit made in the database behind the
# application's back is found even though the chain itself is intact.
RECORDED_MODELS = [
    "assemblies.Council",
    "assemblies.Charter",
    "assemblies.Membership",
    "decisions.Proposal",
    "decisions.Comment",
    "decisions.Ballot",
    "decisions.VoterRegister",
    "decisions.Decision",
    "decisions.MinorityReport",
    "assemblies.Office",
    "federation.Affiliation",
    "federation.FederationCharter",
    "federation.Delegate",
    "federation.FederationBallot",
    "federation.RecallPetition",
    "federation.Signature",
    "federation.Petition",
    "federation.CouncilDemand",
    "federation.Congress",
    "federation.AgendaItem",
    "federation.Attendance",
    "federation.Speaker",
    "economy.Product",
    "economy.Capability",
    "economy.WorkingHours",
    "economy.DraftNeed",
    "economy.Need",
    "economy.PlanPeriod",
    "economy.PlanningRound",
    "economy.PlanningMode",
    "economy.HandProposal",
    "economy.PlanPart",
]


# Checks of what the record vouches for indirectly (e.g. secret ballots, through the digest their decision recorded).
EXTRA_CHECKS = ["councils.decisions.services.check_ballot_digests"]


def stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def lock_chains(*councils) -> None:
    """Take the chains' write locks in one order (by id), so two acts on the same pair cannot deadlock."""
    from councils.assemblies.models import Council

    ids = sorted({council.pk for council in councils})
    list(Council.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def append(council, *, kind: str, subject: str, state: dict | None, at: datetime, actor=None, **extra) -> RecordEntry:
    """Append one entry to ``council``'s chain. ``state`` is the subject's state after the act (None: removed)."""
    if not connection.in_atomic_block:
        raise RuntimeError("record entries are appended inside the act's transaction")
    lock_chains(council)
    head_row = RecordEntry.objects.filter(council=council).order_by("-seq").first()
    data = {"state": state, **extra}
    entry = next_entry(
        head_row.as_entry() if head_row else None,
        chain=chain_name(council.pk),
        at=stamp(at),
        actor=getattr(actor, "username", actor),
        kind=kind,
        subject=subject,
        data=data,
    )
    return RecordEntry.objects.create(
        council=council,
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        kind=entry.kind,
        subject=entry.subject,
        data_json=canonical_json(entry.data).decode("utf-8"),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


@dataclass
class Problem:
    chain: str
    seq: int | None
    subject: str | None
    reason: str

    def __str__(self):
        where = self.chain + (f" entry #{self.seq}" if self.seq is not None else "")
        return f"{where}{' (' + self.subject + ')' if self.subject else ''}: {self.reason}"


@dataclass
class Report:
    chains: int = 0
    entries: int = 0
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_all(councils=None) -> Report:
    """Recompute every chain, then check every recorded row against its last record entry."""
    from councils.assemblies.models import Council

    report = Report()
    councils = list(councils if councils is not None else Council.objects.order_by("pk"))
    last_state: dict[str, dict[str, RecordEntry]] = defaultdict(dict)  # subject -> chain -> last entry
    for council in councils:
        chain = chain_name(council.pk)
        rows = list(RecordEntry.objects.filter(council=council).order_by("seq"))
        report.chains += 1
        report.entries += len(rows)
        entries = []
        for row in rows:
            try:
                entries.append(row.as_entry())
            except json.JSONDecodeError as exc:
                report.problems.append(Problem(chain, row.seq, row.subject, f"data is not valid JSON ({exc})"))
                continue
            last_state[row.subject][chain] = row
        result = verify_chain(chain, entries)
        for brk in result.breaks:
            report.problems.append(Problem(chain, brk.seq, None, brk.reason))
    if councils and len(councils) == Council.objects.count():
        _check_rows(report, last_state)
    return report


def _check_rows(report: Report, last_state) -> None:
    seen: set[str] = set()
    for label in RECORDED_MODELS:
        model = apps.get_model(label)
        rows = model.objects.all()
        if hasattr(model, "RECORDED_FILTER"):  # e.g. drafts, which are not yet the council's business
            rows = rows.filter(**model.RECORDED_FILTER)
        for row in rows.iterator():
            report.rows += 1
            subject = row.subject
            seen.add(subject)
            entries = last_state.get(subject)
            if not entries:
                report.problems.append(Problem("-", None, subject, "row has no record entry (written behind the application's back)"))
                continue
            state = row.record_state()
            for chain, entry in entries.items():
                if entry.data.get("state") != state:
                    report.problems.append(
                        Problem(chain, entry.seq, subject, "row differs from the state its last record entry wrote (altered behind the application's back)")
                    )
    for check in EXTRA_CHECKS:
        module, name = check.rsplit(".", 1)
        for subject, reason in getattr(import_module(module), name)():
            report.problems.append(Problem("-", None, subject, reason))
    for subject, entries in last_state.items():
        if subject in seen or ":" not in subject:
            continue
        for chain, entry in entries.items():
            if entry.data.get("state") is not None and _is_row_subject(subject):
                report.problems.append(Problem(chain, entry.seq, subject, "recorded row is missing (deleted behind the application's back)"))


_ROW_PREFIXES = {"council", "charter", "membership", "proposal", "comment", "ballot", "decision", "affiliation",
                 "register", "minority_report", "office", "federation_charter", "delegate", "federation_ballot",
                 "recall_petition", "signature", "petition", "demand", "congress", "agenda_item", "attendance", "speaker",
                 "product", "capability", "working_hours", "draft_need", "need", "plan_period", "planning_round",
                 "planning_mode", "hand_proposal", "plan_part"}


def _is_row_subject(subject: str) -> bool:
    return subject.split(":", 1)[0] in _ROW_PREFIXES


__all__ = ["append", "lock_chains", "verify_all", "Report", "Problem", "ChainBreak", "stamp"]
