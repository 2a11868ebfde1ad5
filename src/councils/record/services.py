"""Appending to and verifying the stored chains.

``append`` is called by every service function inside its own transaction, so
an act and its record entry are written together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.apps import apps
from django.db import connection
from django.utils.translation import gettext

from councils.errors import Gone
from councils.adapters import sql
from councils.record import log
from councils.record.chain import (
    ChainBreak,
    Entry,
    canonical_json,
    next_entry,
    verify_chain,
)
from councils.record.models import Chain, RecordEntry, chain_of
from councils.record.chain import GENESIS
from councils.record.signatures import SignatureCheck, rule_content
from councils.record.statement import Statement, encode_signature, format_time, key_id, public_key_of, sign_statement

# What the record vouches for beyond its own chains, registered by the apps that own it (AppConfig.ready()):
# every model whose rows the record checks (each has ``subject`` and ``record_state()``; verification compares every
# row with the last state the record wrote for it, so an edit made in the database behind the application's back is
# found even though the chain itself is intact), and further checks (e.g. secret ballots, through the digest their
# decision recorded), each a callable returning (subject, reason) pairs.
_RECORDED: dict[str, str] = {}  # model label -> subject prefix
_SUBJECT_FIELD: dict[str, str] = {}  # model label -> the field whose value follows the prefix in its subjects
_CHECKS: list[Callable[[], Iterable[tuple[str, str]]]] = []


def register_recorded(label: str, prefix: str, field: str = "pk") -> None:
    """``label`` ("app.Model") keeps rows whose subjects are "<prefix>:<value of field>"; verification checks each
    against the record."""
    _RECORDED[label] = prefix
    _SUBJECT_FIELD[label] = field


def recorded_model(prefix: str) -> str | None:
    """The model label ("app.Model") whose rows have subjects "<prefix>:<id>", or None (the record page names them)."""
    return next((label for label, known in _RECORDED.items() if known == prefix), None)


def register_check(check: Callable[[], Iterable[tuple[str, str]]]) -> None:
    if check not in _CHECKS:
        _CHECKS.append(check)


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def plain(value):
    """``value`` as the record keeps it: every datetime, however deep, in UTC and one ISO 8601 format.

    The one place times enter an entry's data. A model's ``record_state()`` hands its datetimes over as they are; a
    time given with the caller's offset (+01:00) and the same time read back from the database (UTC) must write the
    same entry, or ``councils verify`` cries tampering after an ordinary request. The format is the one rows read
    back in (``isoformat()`` of the UTC time), so entries written before this normalisation still match.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a time in the record needs a time zone")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


# The chain of chains: the first entry of every other chain registers its name here, so a chain deleted whole (a
# council removed with its record) is missed by ``verify_all`` instead of vanishing without a trace.
REGISTRY = "record/chains"


def lock_chains(*owners) -> None:
    """Take the chains' write locks in one order (by name), so two acts on the same pair cannot deadlock.

    ``owners`` are chain names or objects with a ``record_chain`` (councils). A chain is made on its first lock.
    """
    names = sorted({chain_of(owner) for owner in owners})
    for name in names:
        Chain.objects.get_or_create(name=name)
    list(Chain.objects.select_for_update().filter(name__in=names).order_by("name").values_list("pk", flat=True))


def _locked_chain(name: str) -> tuple[int, int, str]:
    """Lock the chain ``name`` (made on its first lock) and return its id, tree size and the address its owner moved to
    ("" or None while here): one statement when it exists."""
    row = sql.one(_LOCK_SQL[connection.features.has_select_for_update], [name])
    if row is None:
        lock_chains(name)
        row = sql.one(_LOCK_SQL[connection.features.has_select_for_update], [name])
    return row


def append(owner, *, kind: str, subject: str, state: dict | None, at: datetime, actor=None, **extra) -> RecordEntry:
    """Append one entry to the chain of ``owner`` (a chain name, or a council). ``state`` is the subject's state after
    the act (None: removed).

    Every act passes here while holding its chain's lock, so the statements are few and written once: lock the chain
    (and read its tree size), read the head, insert the entry, and grow the tree (``log.add_entry``)."""
    if not connection.in_atomic_block:
        raise RuntimeError("record entries are appended inside the act's transaction")
    chain = chain_of(owner)
    chain_id, tree_size, moved = _locked_chain(chain)
    if moved:
        raise Gone(gettext("this council has moved to %(address)s by its own decision: act there") % {"address": moved},
                   location=moved)
    head = sql.one(_HEAD_SQL, [chain])
    if head is None and chain != REGISTRY:
        append(REGISTRY, kind="chain.opened", subject=f"chain:{chain}", state={"name": chain}, at=at)
    data = plain({"state": state, **extra})
    if actor is None and "signed" not in data:
        # An act of the rules (a vote closing, a congress convening, a recall vote opening): the server signs it,
        # naming the rule, the entries that triggered it (the chain up to its head) and what it wrote.
        data["server_signed"] = rule_statement(chain, subject, kind, at, head[1] if head else GENESIS, data)
    entry = next_entry(
        # next_entry reads only the head's chain, number and hash
        Entry(chain=chain, seq=head[0], at="", actor=None, kind="", subject="", data={}, prev_hash="", hash=head[1])
        if head else None,
        chain=chain,
        at=stamp(at),
        actor=getattr(actor, "username", actor),
        kind=kind,
        subject=subject,
        data=data,
    )
    values = {"chain": chain, "seq": entry.seq, "at": entry.at, "actor": entry.actor, "kind": entry.kind,
              "subject": entry.subject, "data_json": canonical_json(entry.data).decode("utf-8"),
              "prev_hash": entry.prev_hash, "hash": entry.hash}
    row = RecordEntry(id=sql.insert(RecordEntry, values), **values)
    row._state.adding = False
    log.add_entry(chain, row, chain_id=chain_id, tree_size=tree_size)  # the chain's Merkle tree grows with it
    return row


def refuse_if_moved(owner) -> None:
    """A chain whose owner moved to another server takes no more entries: every act is refused with the new address
    (errors.Gone, HTTP 410), whatever path it came by."""
    moved_to = Chain.objects.filter(name=chain_of(owner)).values_list("moved_to", flat=True).first()
    if moved_to:
        raise Gone(gettext("this council has moved to %(address)s by its own decision: act there") % {"address": moved_to},
                   location=moved_to)


def moved_to(owner) -> str:
    """The address the chain's owner moved to, or "" (still here)."""
    return Chain.objects.filter(name=chain_of(owner)).values_list("moved_to", flat=True).first() or ""


def append_many(owner, items: list[dict], *, at: datetime) -> int:
    """Append many entries to one chain at once (an arrival: the rows a council brought), each item a dict with
    ``kind``, ``subject``, ``state`` and any extra data; the same entries ``append`` would write one by one, written in
    one batch of rows and one pass over the chain's Merkle tree. Returns how many were appended."""
    if not connection.in_atomic_block:
        raise RuntimeError("record entries are appended inside the act's transaction")
    chain = chain_of(owner)
    if not items:
        return 0
    first, *rest = items
    row = append(chain, at=at, **first)
    head, stamped, rows = row.as_entry(), stamp(at), []
    for item in rest:
        item = dict(item)
        kind, subject, state = item.pop("kind"), item.pop("subject"), item.pop("state")
        actor = item.pop("actor", None)
        data = plain({"state": state, **item})
        if actor is None and "signed" not in data:
            data["server_signed"] = rule_statement(chain, subject, kind, at, head.hash, data)  # as ``append`` does
        head = next_entry(head, chain=chain, at=stamped, actor=getattr(actor, "username", actor), kind=kind,
                          subject=subject, data=data)
        rows.append(RecordEntry(chain=chain, seq=head.seq, at=head.at, actor=head.actor, kind=head.kind,
                                subject=head.subject, data_json=canonical_json(head.data).decode("utf-8"),
                                prev_hash=head.prev_hash, hash=head.hash))
    for start in range(0, len(rows), 2000):
        RecordEntry.objects.bulk_create(rows[start:start + 2000])
    log.add_entries(chain, rows)
    return len(items)


def rule_statement(chain: str, subject: str, kind: str, at: datetime, after: str, data: dict) -> dict:
    """The server's signed statement of an act of the rules (``councils.record.signatures.rule_content``)."""
    seed = log.server_signer().seed
    public = public_key_of(seed)
    statement = Statement(act=f"rule.{kind}", council=chain, object=subject, at=format_time(at), key=key_id(public),
                          content=rule_content(kind, after, data))
    signed = sign_statement(statement, seed)
    return {"statement": signed.statement.decode("utf-8"), "signature": encode_signature(signed.signature)}


_LOCK_SQL = {
    locking: f"SELECT {sql.quote('id')}, {sql.quote('tree_size')}, {sql.quote('moved_to')} FROM {sql.table(Chain)} WHERE {sql.quote('name')} = %s"
             + (" FOR UPDATE" if locking else "")
    for locking in (False, True)
}
_HEAD_SQL = (f"SELECT {sql.quote('seq')}, {sql.quote('hash')} FROM {sql.table(RecordEntry)} "
             f"WHERE {sql.quote('chain')} = %s ORDER BY {sql.quote('seq')} DESC LIMIT 1")


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
    signatures: int = 0  # members' signatures checked
    rule_signatures: int = 0  # the server's signatures on acts of the rules checked
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_all(owners=None, progress: Callable[[int], None] | None = None) -> Report:
    """Recompute every chain (or those of ``owners``: chain names or councils); when every chain is verified, also
    check every recorded row against its last record entry. ``progress(n)`` is told of every n entries read (for a
    progress bar: a million entries take a while)."""
    report = Report()
    every = owners is None
    chains = list(Chain.objects.values_list("name", flat=True)) if every else [chain_of(o) for o in owners]
    last_state: dict[str, dict[str, Entry]] = defaultdict(dict)  # subject -> chain -> last entry
    signatures = SignatureCheck(server_key=public_key_of(log.server_signer().seed))
    fed: set[tuple[str, int]] = set()
    if not every:
        # The members' key registrations, wherever they are, so the signatures of these chains can be checked.
        for row in RecordEntry.objects.filter(kind__in=("key.registered", "key.revoked")).order_by("chain", "seq"):
            signatures.add(_entry_dict(row.as_entry()))
            fed.add((row.chain, row.seq))
    for chain in chains:
        report.chains += 1

        def signed_entries(entries, chain=chain):
            for entry in entries:
                if (chain, entry.seq) not in fed:
                    signatures.add(_entry_dict(entry))
                yield entry

        result = verify_chain(chain, signed_entries(_stored_entries(chain, report, last_state, progress)))
        for brk in result.breaks:
            report.problems.append(Problem(chain, brk.seq, None, brk.reason))
    for where, reason in signatures.finish():
        chain, _, seq = where.rpartition(" entry #")
        report.problems.append(Problem(chain, int(seq), None, reason))
    report.signatures = signatures.signed
    report.rule_signatures = signatures.rules
    if every:
        _check_chain_list(report, last_state)
        _check_rows(report, last_state)
    else:
        _check_subjects(report, last_state)
    return report


def _entry_dict(entry) -> dict:
    return {"chain": entry.chain, "seq": entry.seq, "at": entry.at, "actor": entry.actor, "kind": entry.kind,
            "subject": entry.subject, "data": entry.data, "prev_hash": entry.prev_hash}


def _stored_entries(chain: str, report: Report, last_state, progress, batch: int = 5000):
    """The chain's entries in order, read as plain values in batches (not one model instance each, nor all at once)."""
    rows = (RecordEntry.objects.filter(chain=chain).order_by("seq")
            .values_list("seq", "at", "actor", "kind", "subject", "data_json", "prev_hash", "hash").iterator(chunk_size=batch))
    read = 0
    for seq, at, actor, kind, subject, data_json, prev_hash, hash_ in rows:
        report.entries += 1
        read += 1
        if progress is not None and read == batch:
            progress(read)
            read = 0
        try:
            data = json.loads(data_json)
        except json.JSONDecodeError as exc:
            report.problems.append(Problem(chain, seq, subject, f"data is not valid JSON ({exc})"))
            continue
        entry = Entry(chain=chain, seq=seq, at=at, actor=actor, kind=kind, subject=subject, data=data,
                      prev_hash=prev_hash, hash=hash_)
        last_state[subject][chain] = entry
        yield entry
    if progress is not None and read:
        progress(read)


def _check_chain_list(report: Report, last_state) -> None:
    """Every chain that has entries is registered in the chain of chains, and every registered chain is still there."""
    registered = {subject.split(":", 1)[1] for subject, entries in last_state.items()
                  if subject.startswith("chain:") and REGISTRY in entries}
    present = set(RecordEntry.objects.values_list("chain", flat=True).distinct())
    for name in sorted(registered - present):
        report.problems.append(Problem(name, None, None, "the chain of chains registered this chain, and it is gone "
                                                         "(deleted behind the application's back)"))
    for name in sorted(present - registered - {REGISTRY}):
        report.problems.append(Problem(name, None, None, "this chain is not registered in the chain of chains "
                                                         "(made behind the application's back)"))


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
            state = plain(row.record_state())
            for chain, entry in entries.items():
                if not _matches(entry.data.get("state"), state):
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


def _check_subjects(report: Report, last_state) -> None:
    """For the chains of some councils only: every row those chains speak of still holds the state they last wrote
    (rows written without any entry are found by the full check, which sees every row)."""
    by_prefix = {prefix: label for label, prefix in _RECORDED.items()}
    wanted: dict[str, dict[str, str]] = defaultdict(dict)  # label -> value -> subject
    for subject in last_state:
        prefix, _, value = subject.partition(":")
        if prefix in by_prefix and value:
            wanted[by_prefix[prefix]][value] = subject
    for label, values in wanted.items():
        model = apps.get_model(label)
        field = _SUBJECT_FIELD.get(label, "pk")
        rows = {str(getattr(row, field)): row for row in model.objects.filter(**{f"{field}__in": list(values)})}
        for value, subject in values.items():
            row = rows.get(value)
            for chain, entry in last_state[subject].items():
                state = entry.data.get("state")
                if row is None and state is not None:
                    report.problems.append(Problem(chain, entry.seq, subject, "recorded row is missing (deleted behind the application's back)"))
                elif row is not None:
                    report.rows += 1
                    if not _matches(state, plain(row.record_state())):
                        report.problems.append(Problem(chain, entry.seq, subject, "row differs from the state its last record entry wrote (altered behind the application's back)"))


def _matches(recorded, state) -> bool:
    """Whether a row's state is what its entry wrote. A field a model came to record later (a decision's tally, a
    proposal's creation time) is compared wherever the entry has it; an entry written before it existed vouches for
    the fields it has, every one of which must still match."""
    if not isinstance(recorded, dict) or not isinstance(state, dict):
        return recorded == state
    return all(key in state and state[key] == value for key, value in recorded.items())


def _is_row_subject(subject: str) -> bool:
    return subject.split(":", 1)[0] in set(_RECORDED.values())


def witnessed(owner):
    """The latest checkpoint of the chain that witnesses cosigned, with its cosignatures (None: none yet)."""
    from councils.record.models import Checkpoint

    return (Checkpoint.objects.filter(chain=chain_of(owner), cosignatures__isnull=False).order_by("-size")
            .prefetch_related("cosignatures").first())


def entries(owner, *, after: int = -1, limit: int | None = None):
    """The entries of one chain, oldest first."""
    rows = RecordEntry.objects.filter(chain=chain_of(owner), seq__gt=after).order_by("seq")
    return rows[:limit] if limit is not None else rows


# ----- redactable content ------------------------------------------------------------------------------------------


def content_hash(nonce: str, text: str) -> str:
    """What an entry keeps of a text: SHA-256 of a fixed prefix, the nonce and the text (UTF-8)."""
    return hashlib.sha256(f"councils-content:{nonce}:{text}".encode()).hexdigest()


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


def check_archives():
    """For ``councils verify``: every chain carried over from another server (free exit) still is exactly what the
    origin's signed checkpoint covers (tree, signature, every entry's hash and link)."""
    from councils.record import bundle
    from councils.record.models import Archive

    for archive in Archive.objects.order_by("pk"):
        leaves = [leaf.encode("utf-8") for leaf in archive.leaves.order_by("seq").values_list("leaf", flat=True)]
        try:
            bundle.verify_log(leaves, archive.checkpoint, archive.vkey, name=f"archive of {archive.origin}")
        except bundle.BundleError as exc:
            yield (f"chain:{archive.chain}", f"{exc} (altered behind the application's back)")


def check_contents():
    """For ``councils verify``: every stored text, hidden or not, still hashes to the reference its entries hold."""
    from councils.record.models import Content

    for row in Content.objects.iterator():
        if content_hash(row.nonce, row.text) != row.sha256:
            yield (row.subject, f"text {row.sha256[:12]} no longer matches its hash (altered behind the application's back)")


__all__ = [
    "REGISTRY",
    "ChainBreak",
    "Problem",
    "Report",
    "append",
    "append_many",
    "check_archives",
    "check_contents",
    "moved_to",
    "refuse_if_moved",
    "content_ref",
    "entries",
    "lock_chains",
    "plain",
    "published_content",
    "register_check",
    "register_recorded",
    "set_content_hidden",
    "stamp",
    "verify_all",
    "witnessed",
]
