"""Free exit: a council leaves a server with everything it is, and another server takes it in.

``export_council`` writes the free-exit file (``record.bundle``; docs/free-exit.md): the council's rows, app by app,
its members (names, never emails or password hashes), the texts its record references, and its whole chain with the
server's signed checkpoint and key. ``import_council`` checks all of it before it writes anything, then rebuilds the
council in one transaction and continues its record on a new local chain.

Which rows a council is made of is said by the apps that own them (``register_part`` from ``AppConfig.ready()``), so
assemblies never names a model above it.

Keys. Rows get new primary keys here; the record the council brings speaks of the origin's ("proposal:12"). Each
rebuilt row gets one "<prefix>.arrived" entry on the new chain with its state as this server computes it and its
``origin_subject``, and the pairs are kept in ``record.SubjectAlias``: ``councils verify`` compares rows with the
arrival entries (and later ones), and anyone can follow a subject back into the archived chain.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext

from councils import clock
from councils.assemblies import hooks
from councils.assemblies.models import Council
from councils.errors import Conflict, Invalid
from councils.record import bundle, log, note
from councils.record.bundle import BundleError
from councils.record.models import (
    Archive,
    ArchivedLeaf,
    Chain,
    Content,
    RecordEntry,
    SubjectAlias,
)
from councils.record.services import (
    _RECORDED,
    _SUBJECT_FIELD,
    _matches,
    append,
    append_many,
    content_hash,
    lock_chains,
    plain,
    stamp,
)

MOVED = "council.moved"
ARRIVED = "council.arrived"


@dataclass(frozen=True)
class Part:
    """One model whose rows are part of a council.

    ``of_council``: the lookups from the model to the council (any one may match); ``order``: rows are rebuilt in
    this order (a row's required links must point to rows rebuilt before it); ``live``: rebuilt as rows on the new
    server (False: carried in the file and in the archived record only: rows that belong with a federation or a
    catalogue this server does not hold); ``after_import(row, mapping)`` sets what is derived from keys (a
    decision's ballot digest) and returns extra (subject, state) pairs to record; ``to_origin(state, row, mapping)``
    says a state in the origin's keys where the generic translation (links, usernames) is not enough."""

    label: str
    of_council: tuple[str, ...]
    order: int
    live: bool = True
    after_import: Callable[[Any, Mapping], list[tuple[str, dict]]] | None = None
    to_origin: Callable[[dict, Any, Mapping], dict] | None = None


_PARTS: dict[str, Part] = {}
_FINISH: list[Callable[[Council, Mapping], list[tuple[str, dict]]]] = []


def register_part(part: Part) -> None:
    _PARTS[part.label] = part


def register_finish(finish: Callable[[Council, Mapping], list[tuple[str, dict]]]) -> None:
    """``finish(council, mapping)``: run once every row is rebuilt; returns (subject, state) pairs to record."""
    if finish not in _FINISH:
        _FINISH.append(finish)


def parts() -> list[Part]:
    return sorted(_PARTS.values(), key=lambda p: (p.order, p.label))


# ----- export -----------------------------------------------------------------------------------------------------


def _value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return {"seconds": value.days * 86400 + value.seconds, "microseconds": value.microseconds}
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def _rows_of(part: Part, council: Council):
    model = apps.get_model(part.label)
    where = Q()
    for lookup in part.of_council:
        where |= Q(**{lookup: council.pk if lookup == "pk" else council})
    return model.objects.filter(where).distinct().order_by("pk")


def export_council(council: Council) -> bytes:
    """The council as one free-exit file (bytes of a zip)."""
    chain = council.record_chain
    size = log.size_of(chain)
    checkpoint = log.latest_checkpoint(chain)
    files: dict[str, bytes] = {}
    user_ids: set[int] = set()
    subjects: set[str] = set()
    user_model = get_user_model()
    for part in parts():
        model = apps.get_model(part.label)
        fields = model._meta.concrete_fields
        rows = []
        for row in _rows_of(part, council).iterator():
            values = {f.attname: _value(f.value_from_object(row)) for f in fields}
            for f in fields:
                if f.is_relation and f.related_model is user_model and values[f.attname] is not None:
                    user_ids.add(values[f.attname])
            if hasattr(row, "subject"):
                subjects.add(row.subject)
            rows.append({"id": _value(row.pk), "fields": values})
        if not part.live:
            for archive in Archive.objects.filter(chain=chain).order_by("pk"):
                for item in json.loads(archive.carried).get(part.label, []):
                    rows.append(item)
                    user_ids.update(item["fields"][f.attname] for f in fields
                                    if f.is_relation and f.related_model is user_model and item["fields"].get(f.attname) is not None)
        files[f"data/{part.label}.json"] = bundle.dumps(rows)
    members = [{"id": user.pk, "username": user.username, "name": user.get_full_name(), "keys": _keys_of(user)}
               for user in user_model.objects.filter(pk__in=user_ids).order_by("pk")]
    files["members.json"] = bundle.dumps(members)
    # Each member's own chain (their key registrations and revocations), so the signatures of their acts are checked.
    for member in members:
        member_chain = f"member/{member['id']}"
        if Chain.objects.filter(name=member_chain).exists() and RecordEntry.objects.filter(chain=member_chain).exists():
            member_size = log.size_of(member_chain)
            files[f"members/{member['id']}/leaves.jsonl"] = bundle.leaves_file(log.leaves(member_chain, 0, member_size))
            files[f"members/{member['id']}/checkpoint"] = log.latest_checkpoint(member_chain).note.encode()
    contents = [{"subject": c.subject, "sha256": c.sha256, "nonce": c.nonce, "text": c.text,
                 "hidden_at": c.hidden_at.isoformat() if c.hidden_at else None}
                for c in Content.objects.filter(subject__in=subjects).order_by("pk")]
    files["contents.json"] = bundle.dumps(contents)
    files["record/leaves.jsonl"] = bundle.leaves_file(log.leaves(chain, 0, size))
    files["record/checkpoint"] = checkpoint.note.encode()
    files["record/vkey"] = (log.server_vkey() + "\n").encode()
    for n, archive in enumerate(Archive.objects.filter(chain=chain).order_by("pk")):
        files[f"archives/{n}/leaves.jsonl"] = bundle.leaves_file(
            [leaf.encode() for leaf in archive.leaves.order_by("seq").values_list("leaf", flat=True).iterator()])
        files[f"archives/{n}/checkpoint"] = archive.checkpoint.encode()
        files[f"archives/{n}/vkey"] = (archive.vkey + "\n").encode()
        files[f"archives/{n}/aliases.json"] = bundle.dumps(
            [[a.subject, a.origin_subject] for a in archive.aliases.order_by("pk")])
    header = {"council": {"id": council.pk, "slug": council.slug, "name": council.name, "chain": chain},
              "origin": log.server_name(), "site_url": settings.SITE_URL, "exported_at": stamp(clock.now()),
              "entries": size, "moved_to": Chain.objects.filter(name=chain).values_list("moved_to", flat=True).first() or None}
    return bundle.write(files, header)


def _keys_of(user) -> list:
    """A member's public keys, where the server keeps them (issue 17's key model; none before it)."""
    finder = getattr(user, "member_keys", None)
    if finder is None:
        return []
    return [{"key_id": k.key_id, "public_key": k.public_key, "registered_at": _value(k.registered_at),
             "revoked_at": _value(k.revoked_at)} for k in finder.order_by("pk")]


# ----- import -----------------------------------------------------------------------------------------------------


class Mapping:
    """Origin keys to new keys, both ways, and origin users to their accounts here."""

    def __init__(self):
        self.forward: dict[tuple[str, str], Any] = {}
        self.backward: dict[tuple[str, Any], Any] = {}
        self.users: dict[int, Any] = {}  # origin user id -> user here
        self.usernames: dict[str, str] = {}  # username here -> origin username
        self.origin_fields: dict[tuple[str, Any], dict] = {}  # (label, new pk) -> the row's fields in the file

    def add(self, label: str, origin_pk, new_pk) -> None:
        self.forward[(label, str(origin_pk))] = new_pk
        self.backward[(label, new_pk)] = origin_pk

    def new(self, label: str, origin_pk):
        return self.forward.get((label, str(origin_pk)))

    def origin(self, label: str, new_pk):
        return self.backward.get((label, new_pk))

    def origin_username(self, username):
        return self.usernames.get(username, username) if username is not None else None


@dataclass
class Arrival:
    council: Council
    rows: int
    entries: int
    dropped: list[str]


def _destination_matches(destination: str) -> bool:
    def norm(url: str) -> tuple[str, str]:
        parts = urlsplit(url.strip())
        return parts.scheme.lower(), parts.netloc.lower()

    return norm(destination) == norm(settings.SITE_URL)


def _parse(value: Any, field):
    if value is None:
        return None
    internal = field.get_internal_type()
    if internal == "DurationField":
        return timedelta(seconds=value["seconds"], microseconds=value["microseconds"])
    if internal == "BinaryField":
        return bytes.fromhex(value)
    if internal == "JSONField":
        return value
    return field.to_python(value)


def read_file(data: bytes) -> tuple[dict, dict[str, bytes], bundle.VerifiedLog]:
    """The manifest, the files and the verified chain of a free-exit file; BundleError names the first failure."""
    manifest, files = bundle.read(data)
    verified = bundle.verify_log(bundle.read_leaves(files.get("record/leaves.jsonl", b""), "record/leaves.jsonl"),
                                 _text(files, "record/checkpoint"), _text(files, "record/vkey"), name="record")
    return manifest, files, verified


def _check_signatures(files: dict[str, bytes], verified: bundle.VerifiedLog) -> None:
    """Every member's signature on an act of the council's chain, against the key registrations of the members'
    own chains (each checked against its own signed checkpoint), and the origin server's signature on each act of
    the rules; BundleError names the first that fails."""
    from councils.record.signatures import SignatureCheck

    check = SignatureCheck(server_key=verified.vkey.public_key)
    vkey = _text(files, "record/vkey")
    for name in sorted(files):
        if name.startswith("members/") and name.endswith("/checkpoint"):
            folder = name[: -len("checkpoint")]
            leaves = bundle.read_leaves(files.get(folder + "leaves.jsonl", b""), folder + "leaves.jsonl")
            member_log = bundle.verify_log(leaves, _text(files, name), vkey, name=folder.rstrip("/"))
            for entry in member_log.entries:
                if entry.kind in ("key.registered", "key.revoked"):
                    check.add(entry.to_dict())
    for entry in verified.entries:
        check.add(entry.to_dict())
    problems = check.finish()
    if problems:
        where, reason = problems[0]
        raise BundleError(f"record: {where}: {reason}")


def _claimable_keys(files: dict[str, bytes]) -> dict[str, list[dict]]:
    """Each member's keys still active on their own chain in the file (checked against its signed checkpoint by
    ``_check_signatures``), by origin user name: the keys an arrived member may claim their account with."""
    vkey = _text(files, "record/vkey")
    keys: dict[str, dict[str, dict]] = {}
    for name in sorted(files):
        if name.startswith("members/") and name.endswith("/checkpoint"):
            folder = name[: -len("checkpoint")]
            leaves = bundle.read_leaves(files.get(folder + "leaves.jsonl", b""), folder + "leaves.jsonl")
            for entry in bundle.verify_log(leaves, _text(files, name), vkey, name=folder.rstrip("/")).entries:
                item = entry.to_dict()
                data = item.get("data") if isinstance(item.get("data"), dict) else {}
                state = data.get("state") if isinstance(data.get("state"), dict) else {}
                mine = keys.setdefault(str(item.get("actor") or ""), {})
                if item.get("kind") == "key.registered" and state.get("key_id") and state.get("public_key"):
                    mine[state["key_id"]] = {"key_id": state["key_id"], "public_key": state["public_key"]}
                elif item.get("kind") == "key.revoked":
                    mine.pop(state.get("key_id"), None)
    return {member: list(found.values()) for member, found in keys.items()}


def _text(files: dict[str, bytes], name: str) -> str:
    if name not in files:
        raise BundleError(f"{name} is missing")
    try:
        return files[name].decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{name}: not UTF-8 text") from None


def import_council(data: bytes, *, require_move: bool = True) -> Arrival:
    """Take a council in from its free-exit file: every check first (manifest, the signed tree, every entry, the
    origin's "moved" entry naming this server, every row against its record entry), then the rows, the archived
    record and the new chain, all in one transaction: a file that fails anything is refused whole."""
    manifest, files, verified = read_file(data)
    entries = verified.entries
    if not entries:
        raise BundleError(gettext("record: the chain is empty"))
    last = entries[-1]
    if require_move:
        if last.kind != MOVED:
            raise BundleError(gettext("record: the chain does not end with the council's decision to move (a 'council.moved' "
                                      "entry): a council moves only by its own vote"))
        destination = (last.data or {}).get("destination", "")
        if not _destination_matches(destination):
            raise BundleError(gettext("record: the council decided to move to %(destination)s, not to this server (%(site)s)")
                              % {"destination": destination, "site": settings.SITE_URL})
    archives = []
    n = 0
    while f"archives/{n}/checkpoint" in files:
        leaves = bundle.read_leaves(files.get(f"archives/{n}/leaves.jsonl", b""), f"archives/{n}/leaves.jsonl")
        older = bundle.verify_log(leaves, _text(files, f"archives/{n}/checkpoint"), _text(files, f"archives/{n}/vkey"),
                                  name=f"archives/{n}")
        aliases = bundle.load(files, f"archives/{n}/aliases.json")
        archives.append((leaves, older, _text(files, f"archives/{n}/checkpoint"), _text(files, f"archives/{n}/vkey"), aliases))
        n += 1
    _check_signatures(files, verified)
    last_state: dict[str, dict] = {}
    for entry in entries:
        last_state[entry.subject] = (entry.data or {}).get("state")
    try:
        with transaction.atomic():
            return _rebuild(manifest, files, verified, last_state, archives)
    except BundleError:
        raise
    except IntegrityError as exc:
        raise Conflict(gettext("the file holds rows this server already has (%(error)s): was this council here before?")
                       % {"error": exc}) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BundleError(gettext("the file's data cannot be rebuilt as a council (%(error)s)")
                          % {"error": f"{type(exc).__name__}: {exc}"}) from None


def _rebuild(manifest, files, verified: bundle.VerifiedLog, last_state: dict, archives) -> Arrival:
    now = clock.now()
    root_hex = verified.root_hash.hex()
    if Archive.objects.filter(origin=verified.checkpoint.origin, root_hash=root_hex).exists():
        raise Conflict(gettext("this council's record (%(origin)s, %(size)s entries) was already imported here")
                       % {"origin": verified.checkpoint.origin, "size": verified.checkpoint.size})
    mapping = Mapping()
    user_model = get_user_model()
    members = bundle.load(files, "members.json")
    referenced: set[int] = set()
    data = {part.label: bundle.load(files, f"data/{part.label}.json") for part in parts()}
    for part in parts():
        model = apps.get_model(part.label)
        for row in data[part.label]:
            for f in model._meta.concrete_fields:
                if f.is_relation and f.related_model is user_model and row["fields"].get(f.attname) is not None:
                    referenced.add(row["fields"][f.attname])
    listed = {m["id"] for m in members}
    if listed != referenced:
        extra = sorted(listed - referenced)
        missing = sorted(referenced - listed)
        raise BundleError(f"members.json: {'members no row speaks of: ' + str(extra) if extra else ''}"
                          f"{'rows speak of members it lacks: ' + str(missing) if missing else ''}")
    wanted = [m["username"] for m in members]
    taken = set(user_model.objects.filter(username__in=wanted).values_list("username", flat=True))
    chosen: set[str] = set(wanted) - taken
    users = []
    for member in members:
        username = member["username"]
        if username in taken:
            username = _free_username(username, chosen)
            chosen.add(username)
        user = user_model(username=username, first_name=(member.get("name") or "")[:150])
        user.set_unusable_password()
        users.append(user)
    for start in range(0, len(users), 1000):
        user_model.objects.bulk_create(users[start:start + 1000])
    for member, user in zip(members, users):
        mapping.users[member["id"]] = user
        mapping.usernames[user.username] = member["username"]
    # Each arrived member claims their account with one of their keys (councils.accounts.claim): kept here, not
    # active for acts until the claim registers the one it was signed with.
    from councils.accounts.models import ArrivedMember

    claimable = _claimable_keys(files)
    ArrivedMember.objects.bulk_create(
        [ArrivedMember(user=user, origin=str(verified.checkpoint.origin)[:200], keys=claimable.get(member["username"], []),
                       arrived_at=now) for member, user in zip(members, users)], batch_size=1000)

    # Rows, part by part; links to rows rebuilt later are set afterwards, links to rows that stay behind are dropped.
    deferred: list[tuple[Any, Any, str, str, Any]] = []
    stale: set[tuple[Any, Any]] = set()  # rows changed after they were written: read back before their state
    dropped: list[str] = []
    rebuilt: list[tuple[Part, Any]] = []
    council: Council | None = None
    live_labels = {p.label for p in parts() if p.live}
    for part in parts():
        if not part.live:
            continue
        model = apps.get_model(part.label)
        fields = model._meta.concrete_fields
        objs, origins = [], []
        for item in data[part.label]:
            values = item["fields"]
            kwargs: dict = {}
            later: list = []
            for f in fields:
                if f.primary_key:
                    continue
                value = values.get(f.attname)
                if f.is_relation:
                    target = f.related_model._meta.label
                    if value is None:
                        kwargs[f.attname] = None
                    elif f.related_model is user_model:
                        kwargs[f.name] = mapping.users[value]  # the instance: record_state reads its username
                    elif mapping.new(target, value) is not None:
                        kwargs[f.attname] = mapping.new(target, value)
                    elif target in live_labels and f.null:
                        kwargs[f.attname] = None
                        later.append((f.attname, target, value))
                    elif f.null:
                        kwargs[f.attname] = None
                        dropped.append(f"{part.label} {item['id']}: {f.name} {value} stays with the origin")
                    else:
                        raise BundleError(f"data/{part.label}.json: row {item['id']} needs {target} {value}, which the "
                                          "file does not hold")
                else:
                    kwargs[f.attname] = _parse(value, f)
            if model is Council:
                kwargs["slug"] = _free_slug(kwargs["slug"])
            obj = model(**kwargs)
            deferred.extend((model, obj, attname, target, value) for attname, target, value in later)
            objs.append(obj)
            origins.append(item)
        for start in range(0, len(objs), 1000):
            model.objects.bulk_create(objs[start:start + 1000])
        for obj, item in zip(objs, origins):
            if obj.pk is None:
                raise RuntimeError("the database did not return new keys")
            mapping.add(part.label, item["id"], obj.pk)
            mapping.origin_fields[(part.label, obj.pk)] = item["fields"]
            rebuilt.append((part, obj))
            if model is Council:
                council = obj
    if council is None:
        raise BundleError("data/assemblies.Council.json: no council")
    for model, obj, attname, target, value in deferred:
        new = mapping.new(target, value)
        if new is None:
            dropped.append(f"{model._meta.label} {mapping.origin(model._meta.label, obj.pk)}: {attname} {value} stays with the origin")
            continue
        model.objects.filter(pk=obj.pk).update(**{attname: new})
        stale.add((model, obj.pk))

    # The texts the record references, under their new subjects, with the origin's nonces (so their hashes hold).
    subject_of = _subjects(rebuilt, mapping)
    origin_to_new = {origin: new for new, origin in subject_of.items()}
    for item in bundle.load(files, "contents.json"):
        new_subject = origin_to_new.get(item["subject"])
        if new_subject is None:
            raise BundleError(f"contents.json: a text of {item['subject']}, which no row of the file is")
        if content_hash(item["nonce"], item["text"]) != item["sha256"]:
            raise BundleError(f"contents.json: the text of {item['subject']} does not match its hash (altered)")
        Content.objects.create(sha256=item["sha256"], nonce=item["nonce"], subject=new_subject, text=item["text"],
                               text_sha256=hashlib.sha256(item["text"].encode("utf-8")).hexdigest(),
                               hidden_at=datetime.fromisoformat(item["hidden_at"]) if item["hidden_at"] else None)

    # Every rebuilt row must be what the origin's record last said of it.
    extra_entries: list[tuple[str, dict, str | None]] = []
    states: dict[str, dict] = {}
    for part, obj in rebuilt:
        if (type(obj), obj.pk) in stale:
            obj.refresh_from_db()
        if part.after_import is not None:
            for subject, state in part.after_import(obj, mapping):
                extra_entries.append((subject, state, None))
    for finish in _FINISH:
        extra_entries.extend((subject, state, None) for subject, state in finish(council, mapping))
    for part, obj in rebuilt:
        subject = getattr(obj, "subject", None)
        if subject is None or not hasattr(obj, "record_state"):
            continue
        origin_subject = subject_of[subject]
        state = plain(obj.record_state())
        states[subject] = state
        recorded = last_state.get(origin_subject, _MISSING)
        if recorded is _MISSING:
            raise BundleError(f"data/{part.label}.json: {origin_subject} has no entry in the record (added to the file)")
        if not _matches(recorded, _to_origin(state, part, obj, mapping)):
            raise BundleError(f"data/{part.label}.json: {origin_subject} differs from what the record last wrote of it "
                              "(altered in the file)")

    # The archived record, the rows carried without being rebuilt, the aliases, and the new chain that continues it.
    chain = council.record_chain
    carried = {part.label: [_carried(item, apps.get_model(part.label), mapping) for item in data[part.label]]
               for part in parts() if not part.live}
    archive = _archive(chain, verified, _text(files, "record/checkpoint"), _text(files, "record/vkey"), now,
                       bundle.read_leaves(files["record/leaves.jsonl"], "record/leaves.jsonl"), carried)
    SubjectAlias.objects.bulk_create([SubjectAlias(archive=archive, subject=new, origin_subject=origin)
                                      for new, origin in subject_of.items()], batch_size=1000)
    for leaves, older, checkpoint_text, vkey, aliases in archives:
        earlier = _archive(chain, older, checkpoint_text, vkey, now, leaves)
        SubjectAlias.objects.bulk_create([SubjectAlias(archive=earlier, subject=origin_to_new.get(a, a), origin_subject=o)
                                          for a, o in aliases], batch_size=1000)
    lock_chains(chain)
    origin = verified.checkpoint
    last = verified.entries[-1]
    append(council, kind=ARRIVED, subject=council.subject, state=states[council.subject], at=now,
           origin={"checkpoint_origin": origin.origin, "size": origin.size,
                   "root_hash": note.b64encode(origin.root_hash), "vkey": str(verified.vkey),
                   "last_entry_hash": last.hash, "checkpoint": _text(files, "record/checkpoint")},
           origin_subject=subject_of[council.subject])
    items = []
    for part, obj in rebuilt:
        subject = getattr(obj, "subject", None)
        if subject is None or subject == council.subject or subject not in states:
            continue
        items.append({"kind": f"{subject.split(':', 1)[0]}.arrived", "subject": subject, "state": states[subject],
                      "origin_subject": subject_of[subject]})
    items.extend({"kind": "arrived", "subject": subject, "state": state} for subject, state, _ in extra_entries)
    appended = append_many(council, items, at=now) + 1
    return Arrival(council=council, rows=len(rebuilt), entries=appended, dropped=dropped)


_MISSING = object()


def _carried(item: dict, model, mapping: Mapping) -> dict:
    """A row kept as data: its members and its links to rebuilt rows in this server's keys, other links as they were."""
    user_model = get_user_model()
    fields = dict(item["fields"])
    for f in model._meta.concrete_fields:
        value = fields.get(f.attname)
        if not f.is_relation or value is None:
            continue
        if f.related_model is user_model:
            fields[f.attname] = mapping.users[value].pk
        elif mapping.new(f.related_model._meta.label, value) is not None:
            fields[f.attname] = mapping.new(f.related_model._meta.label, value)
    return {"id": item["id"], "fields": fields}


def _archive(chain, verified, checkpoint_text, vkey, now, leaves, carried=None) -> Archive:
    archive = Archive.objects.create(chain=chain, origin=verified.checkpoint.origin, vkey=vkey.strip(),
                                     carried=json.dumps(carried or {}, sort_keys=True),
                                     checkpoint=checkpoint_text, size=verified.checkpoint.size,
                                     root_hash=verified.root_hash.hex(), imported_at=now)
    ArchivedLeaf.objects.bulk_create([ArchivedLeaf(archive=archive, seq=i, leaf=leaf.decode("utf-8"))
                                      for i, leaf in enumerate(leaves)], batch_size=2000)
    return archive


def _subjects(rebuilt, mapping: Mapping) -> dict[str, str]:
    """Each rebuilt row's subject here -> its subject at the origin."""
    found = {}
    for part, obj in rebuilt:
        prefix = _RECORDED.get(part.label)
        subject = getattr(obj, "subject", None)
        if prefix is None or subject is None:
            continue
        field = _SUBJECT_FIELD.get(part.label, "pk")
        origin_fields = mapping.origin_fields[(part.label, obj.pk)]
        value = mapping.origin(part.label, obj.pk) if field == "pk" else origin_fields[field]
        found[subject] = f"{prefix}:{value}"
    return found


def _to_origin(state: dict, part: Part, obj, mapping: Mapping) -> dict:
    """A row's state as the origin computed it: links and the row's own altered fields as the file holds them,
    usernames as the origin spelled them."""
    model = type(obj)
    user_model = get_user_model()
    origin_fields = mapping.origin_fields[(part.label, obj.pk)]
    out = dict(state)
    for key, value in state.items():
        f = next((field for field in model._meta.concrete_fields if field.name == key), None)
        if f is None:  # a state key that is no column (e.g. a proposal's "options")
            continue
        if f.is_relation and f.related_model is user_model:
            out[key] = mapping.origin_username(value)
        elif f.is_relation:
            out[key] = origin_fields.get(f.attname)
        elif key == "slug":
            out[key] = origin_fields.get("slug")
    if part.to_origin is not None:
        out = part.to_origin(out, obj, mapping)
    return out


def _free_username(username: str, chosen: set[str]) -> str:
    user_model = get_user_model()
    candidate, n = username, 1
    while candidate in chosen or user_model.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{username[:140]}-{n}"
    return candidate


def _free_slug(slug: str) -> str:
    candidate, n = slug, 1
    while Council.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{slug[:130]}-{n}"
    return candidate


# ----- the move, decided by the council -------------------------------------------------------------------------------


def clean_destination(url) -> str:
    """A move names the destination server's address: an http(s) URL, not this server."""
    if not isinstance(url, str) or not url.strip():
        raise Invalid(gettext("a move names the address of the server the council moves to"), field="destination")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 400:
        raise Invalid(gettext("the destination is an http or https address such as https://councils.example.org"),
                      field="destination")
    if _destination_matches(url):
        raise Invalid(gettext("the destination is this server"), field="destination")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def record_move(council: Council, destination: str, at, *, decision) -> None:
    """The council's decision to move, adopted: the final entry of its chain names the destination and the last
    checkpoint before it; federations it belongs to are told (``hooks.council_moved``); no act is taken here after."""
    chain = council.record_chain
    lock_chains(chain)
    size = log.size_of(chain)
    root = log.root(chain, size)
    hooks.council_moved.send(sender=Council, council=council, destination=destination, at=at, decision=decision)
    append(council, kind=MOVED, subject=council.subject, state=council.record_state(), at=at, destination=destination,
           last_checkpoint={"origin": log.origin(chain), "size": size, "root_hash": note.b64encode(root)},
           decision=decision.pk)
    Chain.objects.filter(name=chain).update(moved_to=destination)


def archived_entries(council: Council) -> int:
    return sum(Archive.objects.filter(chain=council.record_chain).values_list("size", flat=True))


__all__ = [
    "ARRIVED",
    "MOVED",
    "Arrival",
    "Mapping",
    "Part",
    "RecordEntry",
    "clean_destination",
    "export_council",
    "import_council",
    "record_move",
    "register_part",
]
