"""Appending to and verifying the stored chains.

``append`` is called by every service function inside its own transaction, so
an act and its record entry are written together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

from django.apps import apps
from django.db import connection

from councils.record.chain import ChainBreak, canonical_json, next_entry, verify_chain
from councils.record.models import Chain, RecordEntry, chain_of

# What the record vouches for beyond its own chains, registered by the apps that own it (AppConfig.ready()):
# every model whose rows the record checks (each has ``subject`` and ``record_state()``; verification compares every
# row with the last state the record wrote for it, so an edit made in the database behind the application's back is
# found even though the chain itself is intact), and further checks (e.g. secret ballots, through the digest their
# decision recorded), each a callable returning (subject, reason) pairs.
_RECORDED: dict[str, str] = {}  # model label -> subject prefix
_CHECKS: list[Callable[[], Iterable[tuple[str, str]]]] = []


def register_recorded(label: str, prefix: str) -> None:
    """``label`` ("app.Model") keeps rows whose subjects are "<prefix>:<id>"; verification checks each against the record."""
    _RECORDED[label] = prefix


def register_check(check: Callable[[], Iterable[tuple[str, str]]]) -> None:
    if check not in _CHECKS:
        _CHECKS.append(check)


def stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def lock_chains(*owners) -> None:
    """Take the chains' write locks in one order (by name), so two acts on the same pair cannot deadlock.

    ``owners`` are chain names or objects with a ``record_chain`` (councils). A chain is made on its first lock.
    """
    names = sorted({chain_of(owner) for owner in owners})
    for name in names:
        Chain.objects.get_or_create(name=name)
    list(Chain.objects.select_for_update().filter(name__in=names).order_by("name").values_list("pk", flat=True))


def append(owner, *, kind: str, subject: str, state: dict | None, at: datetime, actor=None, **extra) -> RecordEntry:
    """Append one entry to the chain of ``owner`` (a chain name, or a council). ``state`` is the subject's state after
    the act (None: removed)."""
    if not connection.in_atomic_block:
        raise RuntimeError("record entries are appended inside the act's transaction")
    chain = chain_of(owner)
    lock_chains(chain)
    head_row = RecordEntry.objects.filter(chain=chain).order_by("-seq").first()
    data = {"state": state, **extra}
    entry = next_entry(
        head_row.as_entry() if head_row else None,
        chain=chain,
        at=stamp(at),
        actor=getattr(actor, "username", actor),
        kind=kind,
        subject=subject,
        data=data,
    )
    return RecordEntry.objects.create(
        chain=chain,
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


def verify_all(owners=None) -> Report:
    """Recompute every chain (or those of ``owners``: chain names or councils); when every chain is verified, also
    check every recorded row against its last record entry."""
    report = Report()
    every = owners is None
    chains = list(Chain.objects.values_list("name", flat=True)) if every else [chain_of(o) for o in owners]
    last_state: dict[str, dict[str, RecordEntry]] = defaultdict(dict)  # subject -> chain -> last entry
    for chain in chains:
        rows = list(RecordEntry.objects.filter(chain=chain).order_by("seq"))
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
    if every:
        _check_rows(report, last_state)
    return report


def _check_rows(report: Report, last_state) -> None:
    seen: set[str] = set()
    for label in _RECORDED:
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
    for check in _CHECKS:
        for subject, reason in check():
            report.problems.append(Problem("-", None, subject, reason))
    for subject, entries in last_state.items():
        if subject in seen or ":" not in subject:
            continue
        for chain, entry in entries.items():
            if entry.data.get("state") is not None and _is_row_subject(subject):
                report.problems.append(Problem(chain, entry.seq, subject, "recorded row is missing (deleted behind the application's back)"))


def _is_row_subject(subject: str) -> bool:
    return subject.split(":", 1)[0] in set(_RECORDED.values())


def entries(owner, *, after: int = -1, limit: int | None = None):
    """The entries of one chain, oldest first."""
    rows = RecordEntry.objects.filter(chain=chain_of(owner), seq__gt=after).order_by("seq")
    return rows[:limit] if limit is not None else rows


# ----- redactable content ------------------------------------------------------------------------------------------


def content_hash(nonce: str, text: str) -> str:
    """What an entry keeps of a text: SHA-256 of a fixed prefix, the nonce and the text (UTF-8)."""
    return hashlib.sha256(f"councils-content:{nonce}:{text}".encode("utf-8")).hexdigest()


def content_ref(subject: str, text: str) -> dict:
    """The reference an entry's state holds for ``text`` of ``subject``; the same text of the same subject keeps its
    reference (and its row), so a row's ``record_state()`` is the same however often it is computed."""
    from councils.record.models import Content

    text_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row = Content.objects.filter(subject=subject, text_sha256=text_sha).first()
    if row is None and not connection.in_atomic_block:
        # Outside an act (``councils verify`` reading a row): nothing is written; a text no entry references
        # (one edited behind the application's back) matches no entry.
        return {"sha256": None}
    if row is None:
        nonce = secrets.token_hex(16)
        row = Content.objects.create(sha256=content_hash(nonce, text), nonce=nonce, subject=subject, text=text,
                                     text_sha256=text_sha)
    return {"sha256": row.sha256}


def set_content_hidden(subject: str, hidden_at) -> int:
    """Hide (``hidden_at`` a time) or show again (None) every text of ``subject``; the chain is untouched."""
    from councils.record.models import Content

    return Content.objects.filter(subject=subject).update(hidden_at=hidden_at)


def published_content(sha256: str) -> dict | None:
    """A text as the public sees it: with its nonce, to check against the entry's hash, or only that it is hidden."""
    from councils.record.models import Content

    row = Content.objects.filter(sha256=sha256).first()
    if row is None:
        return None
    if row.hidden_at is not None:
        return {"sha256": row.sha256, "hidden": True, "subject": row.subject, "nonce": None, "text": None}
    return {"sha256": row.sha256, "hidden": False, "subject": row.subject, "nonce": row.nonce, "text": row.text}


def check_contents():
    """For ``councils verify``: every stored text, hidden or not, still hashes to the reference its entries hold."""
    from councils.record.models import Content

    for row in Content.objects.iterator():
        if content_hash(row.nonce, row.text) != row.sha256:
            yield (row.subject, f"text {row.sha256[:12]} no longer matches its hash (altered behind the application's back)")


__all__ = ["append", "lock_chains", "verify_all", "entries", "register_recorded", "register_check", "Report", "Problem",
           "ChainBreak", "stamp", "content_ref", "set_content_hidden", "published_content", "check_contents"]
