"""Checking the members' signatures a record holds, against the key registrations the record itself holds.

Pure: entries in (plain dicts, as leaves or rows give them), problems out. Used by ``councils verify`` (the stored
chains) and ``councils verify --remote`` (the leaves any server publishes), so both judge the same way:

* every entry that carries ``data.signed`` ({"statement", "signature"}) must hold a statement (RFC 8785,
  ``councils.record.statement``) signed by a key registered to the entry's actor in the record (a "key.registered"
  entry on a member's chain, itself signed by that key), registered before the entry and not revoked before it
  ("key.revoked"), with a statement time within ``WINDOW`` of the entry's;
* an entry of a member's act (``MEMBER_ACTS``) made by a member without a signature is refused: that is what a
  ballot written into the database, or by the server's own code without the member's key, looks like.

Signatures are checked together (``verify_many``, in parallel for large records): one Ed25519 verification per act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from councils.record import statement as st

WINDOW = timedelta(minutes=10)

# The entries that only a member's own signed act writes (and the key registrations).
MEMBER_ACTS = frozenset({
    "ballot.cast", "ballot.changed", "voter.registered", "comment.added", "minority_report.attached",
    "content.reported", "petition.signed", "petition.opened", "recall.signed", "recall.petition_opened",
    "member.left", "federation_ballot.free", "federation_ballot.minutes", "amendment.accepted",
    "proposal.withdrawn", "proposal.rescheduled", "council.founded", "key.registered",
    "capability.recorded", "capability.removed", "working_hours.recorded", "draft_need.changed", "draft_need.removed",
    "hand_proposal.submitted",
})


def _opened(signed, not_a_pair: str) -> tuple[bytes, st.Statement, bytes]:
    """A stored ``{statement, signature}``: the statement's bytes, the statement read from them, the signature's bytes
    (StatementError, with ``not_a_pair`` when it is no such object)."""
    if not isinstance(signed, dict):
        raise st.StatementError(not_a_pair)
    data = str(signed.get("statement", "")).encode("utf-8")
    return data, st.parse_statement(data), st.decode_signature(signed.get("signature", ""))


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


@dataclass
class _Key:
    member: str
    public: bytes
    registered_at: str
    revoked_at: str | None = None


def rule_content(kind: str, after: str, data: dict) -> dict:
    """What the server signs of an act of the rules: the rule (the entry's kind), the entries that triggered it (the
    hash of the chain's head before it, which commits to every earlier entry: the ballots a close counts, the
    signatures a petition reached), the decision it applies when there is one, and the hash of what it wrote."""
    body = {key: value for key, value in data.items() if key != "server_signed"}
    content = {"rule": kind, "after": after, "data_sha256": st.content_sha256(body)}
    if isinstance(data.get("decision"), int):
        content["decision"] = data["decision"]
    return content


@dataclass
class SignatureCheck:
    """Feed every entry (``add``), then ``finish`` for the problems: (where, reason) pairs, where is "chain #seq"."""

    server_key: bytes | None = None  # raw Ed25519 key of the server: rule acts are checked with it when given
    keys: dict[str, _Key] = field(default_factory=dict)
    pending: list = field(default_factory=list)
    rule_items: list = field(default_factory=list)
    rule_places: list = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    signed: int = 0
    rules: int = 0

    def add(self, entry: dict) -> None:
        where = f"{entry['chain']} entry #{entry['seq']}"
        data = entry.get("data")
        data = data if isinstance(data, dict) else {}
        kind = entry.get("kind")
        if kind in ("key.registered", "key.revoked"):
            state = data.get("state") if isinstance(data.get("state"), dict) else {}
            kid = state.get("key_id")
            if kind == "key.registered":
                try:
                    public = st.decode_public_key(state.get("public_key", ""))
                    if st.key_id(public) != kid:
                        raise st.StatementError("the key ID is not the key's")
                except st.StatementError as exc:
                    self.problems.append((where, f"key registration holds no usable key ({exc})"))
                else:
                    if kid in self.keys:
                        self.problems.append((where, f"key {kid} is registered twice"))
                    else:
                        self.keys[kid] = _Key(member=entry.get("actor") or "", public=public, registered_at=entry["at"])
            elif kid in self.keys and self.keys[kid].revoked_at is None:
                self.keys[kid].revoked_at = entry["at"]
        rule = data.get("server_signed")
        if rule is not None and self.server_key is not None:
            self._add_rule(entry, where, rule, data)
        signed = data.get("signed")
        if signed is None:
            if kind in MEMBER_ACTS and entry.get("actor"):
                self.problems.append((where, f"{kind} by {entry.get('actor')} carries no signature of theirs "
                                             "(written without the member's key)"))
            return
        self.pending.append((where, entry.get("actor"), entry["at"], signed))

    def _add_rule(self, entry: dict, where: str, rule, data: dict) -> None:
        try:
            text, statement, signature = _opened(rule, "not {statement, signature}")
        except st.StatementError as exc:
            self.problems.append((where, f"the server's signed rule act is malformed: {exc}"))
            return
        expected = rule_content(entry.get("kind", ""), entry.get("prev_hash", ""), data)
        if statement.key != st.key_id(self.server_key):
            self.problems.append((where, "the rule act is signed by another key than the server's"))
        elif (statement.act, statement.object, statement.content) != (f"rule.{entry.get('kind')}", entry.get("subject"), expected):
            self.problems.append((where, "the server's signed rule act does not say what the entry holds"))
        else:
            self.rule_items.append((text, signature, self.server_key))
            self.rule_places.append(where)

    def finish(self, *, processes: int | None = None) -> list[tuple[str, str]]:
        """Check every signature gathered; returns (and keeps) the problems, in the order the entries came."""
        items, places = [], []
        for where, actor, at, signed in self.pending:
            reason = None
            try:
                data, statement, signature = _opened(signed, "the signed act is not {statement, signature}")
            except st.StatementError as exc:
                self.problems.append((where, f"signed act is malformed: {exc}"))
                continue
            key = self.keys.get(statement.key)
            when, signed_at = _time(at), statement.time()
            if key is None:
                reason = f"signed by key {statement.key}, which the record never registered"
            elif key.member != actor:
                reason = f"signed by key {statement.key} of {key.member}, not of the entry's actor {actor}"
            elif at < key.registered_at:
                reason = f"signed by key {statement.key} before it was registered"
            elif key.revoked_at is not None and at >= key.revoked_at:
                reason = f"signed by key {statement.key} after it was revoked"
            elif when is None or abs(when - signed_at) > WINDOW:
                reason = f"the statement's time {statement.at} is not the entry's ({at})"
            if reason:
                self.problems.append((where, reason))
                continue
            items.append((data, signature, key.public))
            places.append(where)
        for index in st.verify_many(items + self.rule_items, processes=processes):
            if index < len(items):
                self.problems.append((places[index], "a member's signature does not verify (the act was altered or forged)"))
            else:
                self.problems.append((self.rule_places[index - len(items)], "the server's signature on a rule act does not verify"))
        self.signed = len(items)
        self.rules = len(self.rule_items)
        return self.problems
