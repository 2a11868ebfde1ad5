"""Federation across servers: peers known by their keys, an outbox delivered by the worker, an inbox that checks
everything before it applies anything, and the messages of joining and leaving a federation on another server.

Trust: a peer's key is pinned the first time the operator adds it (``councils peer add URL``), from the peer's own
well-known document fetched over the network: trust on first use. Whoever answers at that URL at that moment is
believed; compare the key with the other server's operator by another channel when it matters. After that, every
message must verify with the pinned key, and a changed key is refused until the operator removes the peer and adds
it again deliberately.

Each message is applied in one transaction with the row that remembers its id (``InboxMessage``), so a message
delivered twice is applied once; a refusal writes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify

from councils import clock
from councils.assemblies.models import Charter, Council, CouncilKind
from councils.decisions.models import Decision
from councils.errors import Conflict, CouncilsError, Gone, Invalid
from councils.federation import wire
from councils.federation.models import (
    Affiliation,
    InboxMessage,
    OutboxMessage,
    OutboxStatus,
    Peer,
    RemoteCouncil,
    RemoteMandate,
)
from councils.federation.wire import Refused
from councils.record import log, note
from councils.record import statement as st
from councils.record.services import append, lock_chains, moved_to, refuse_if_moved

logger = logging.getLogger("councils.federation")

WELL_KNOWN = "/.well-known/councils-server"
INBOX = "/api/federation/inbox"
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)


# ----- this server ----------------------------------------------------------------------------------------------


def base_url() -> str:
    return settings.SITE_URL.rstrip("/")


def server_document() -> dict:
    """What ``GET /.well-known/councils-server`` answers: who this server is, its key, where its inbox is, and the
    federations that live here (councils on other servers may ask to join them)."""
    vkey = log.server_vkey()
    federations = Council.objects.filter(kind=CouncilKind.FEDERATION, remote__isnull=True).order_by("slug")
    return {"name": log.server_name(), "url": base_url(), "vkey": vkey, "key_id": wire.key_id_of(vkey),
            "inbox": base_url() + INBOX,
            "federations": [{"slug": f.slug, "name": f.name} for f in federations]}


def _server_private_key() -> bytes:
    return log.server_signer().seed


def _server_act(act: str, council: str, object: str, content: dict, at: datetime) -> dict:
    """An act of this server's rules (a decision applied, an admission), signed with the server key."""
    seed = _server_private_key()
    statement = st.Statement(act=act, council=council, object=object, at=st.format_time(at),
                             key=st.key_id(st.public_key_of(seed)), content=content)
    return wire.sign_act(statement, seed)


# ----- transport ----------------------------------------------------------------------------------------------


class HttpTransport:
    """Real HTTP (urllib). Tests put an in-process transport in its place (``use_transport``)."""

    timeout = 10

    def get_json(self, url: str) -> dict:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read(wire.MAX_BODY))

    def post(self, url: str, headers: dict, body: bytes) -> tuple[int, dict]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, _json_or_text(response.read(100_000))
        except urllib.error.HTTPError as error:
            return error.code, _json_or_text(error.read(100_000))


def _json_or_text(data: bytes) -> dict:
    try:
        answer = json.loads(data)
        return answer if isinstance(answer, dict) else {"detail": str(answer)[:500]}
    except ValueError:
        return {"detail": data[:500].decode("utf-8", "replace")}


_transport: list = [HttpTransport()]


def transport():
    return _transport[-1]


def use_transport(new) -> None:
    """Replace the transport (tests: an in-process one); ``None`` restores real HTTP."""
    _transport[:] = [new or HttpTransport()]


# ----- peers ----------------------------------------------------------------------------------------------------


def normalise_url(url: str) -> str:
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise Invalid("a server's address is http(s)://host[:port][/path], without query", field="url")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def _check_document(document) -> note.VerifierKey:
    if not isinstance(document, dict) or not all(isinstance(document.get(k), str) for k in ("name", "url", "vkey")):
        raise Invalid("the server's well-known document needs name, url and vkey", field="url")
    try:
        vkey = note.VerifierKey.parse(document["vkey"])
    except note.NoteError as error:
        raise Invalid(f"the server's key is not a valid verifier key: {error}", field="url") from None
    if vkey.name != document["name"]:
        raise Invalid(f"the server's key is named {vkey.name!r}, not {document['name']!r}", field="url")
    if document["name"] == log.server_name():
        raise Invalid("that is this server's own name: a peer is another server", field="url")
    return vkey


def add_peer(url: str, *, actor: str = "") -> tuple[Peer, bool]:
    """Fetch the server's well-known document and pin its key (trust on first use); learn its federations.
    Returns (peer, created). Adding a known peer again refreshes its federations; a changed key is refused."""
    url = normalise_url(url)
    try:
        document = transport().get_json(url + WELL_KNOWN)
    except (OSError, ValueError) as error:
        raise Invalid(f"could not read {url + WELL_KNOWN}: {error}", field="url") from None
    vkey = _check_document(document)
    now = clock.now()
    with transaction.atomic():
        peer = Peer.objects.select_for_update().filter(name=vkey.name).first() or Peer.objects.filter(url=url).first()
        created = peer is None
        if peer is not None and peer.vkey != str(vkey):
            raise Conflict(f"{peer.name} answered with another key than the one pinned on {peer.first_seen:%Y-%m-%d}: "
                           "refused. If its operator confirms the new key, remove the peer and add it again.")
        if peer is not None and peer.url != url:
            raise Conflict(f"{peer.name} is known at {peer.url}, not {url}")
        if created:
            peer = Peer.objects.create(name=vkey.name, url=url, vkey=str(vkey), key_id=wire.key_id_of(str(vkey)),
                                       first_seen=now, added_by=actor)
            append("federation/peers", kind="peer.added", subject=f"peer:{peer.pk}",
                   state={"name": peer.name, "url": peer.url, "vkey": peer.vkey}, at=now, actor=actor or None)
        for federation in document.get("federations") or []:
            if isinstance(federation, dict) and isinstance(federation.get("slug"), str):
                stand_in(peer, federation["slug"], str(federation.get("name") or federation["slug"]),
                         CouncilKind.FEDERATION, now)
    return peer, created


def stand_in(peer: Peer, slug: str, name: str, kind: str, at: datetime) -> Council:
    """The local row standing for a council of ``peer`` (made the first time it is named)."""
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,100}", slug or ""):
        raise Invalid(f"{slug!r} is not a council's slug", field="council")
    known = RemoteCouncil.objects.filter(peer=peer, remote_slug=slug).select_related("council").first()
    if known is not None:
        return known.council
    if kind not in CouncilKind.values:
        raise Invalid(f"{kind!r} is not a kind of council", field="kind")
    local_slug = base = slugify(f"{slug}-at-{peer.name}")[:130] or "remote"
    number = 1
    while Council.objects.filter(slug=local_slug).exists():
        number += 1
        local_slug = f"{base}-{number}"
    council = Council.objects.create(name=name[:120], slug=local_slug, kind=kind, created_at=at,
                                     description=f"A council on {peer.name} ({peer.url}/c/{slug}/).")
    charter = Charter.objects.create(council=council)  # the defaults: its real charter is on its own server
    RemoteCouncil.objects.create(council=council, peer=peer, remote_slug=slug)
    append(council, kind="council.remote", subject=council.subject, state=council.record_state(), at=at,
           peer=peer.name, remote_slug=slug)
    append(council, kind="charter.adopted", subject=charter.subject, state=charter.record_state(), at=at,
           note="a stand-in's default charter: the council's own charter is on its server")
    return council


def remote_of(council: Council) -> RemoteCouncil | None:
    return RemoteCouncil.objects.filter(council=council).select_related("peer").first()


# ----- the outbox -----------------------------------------------------------------------------------------------


def send(peer: Peer, type: str, payload: dict, acts: list[dict], at: datetime, council: Council | None = None) -> OutboxMessage:
    """Put a message for ``peer`` in the outbox, inside the caller's transaction (the act's own)."""
    if not connection.in_atomic_block:
        raise RuntimeError("messages are written inside the act's transaction")
    if council is not None:
        refuse_if_moved(council)  # a council that moved away sends nothing more from here (errors.Gone)
    message_id = uuid.uuid4().hex
    body = wire.canonical(wire.envelope(message_id=message_id, type=type, sender=log.server_name(), recipient=peer.name,
                                        at=at, payload=payload, acts=acts)).decode()
    return OutboxMessage.objects.create(peer=peer, council=council, message_id=message_id, type=type, body=body,
                                        created_at=at, next_attempt_at=at)


@dataclass
class Delivery:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min, ... at most 6 hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


# A refusal the peer will give again however often the message is sent: the message is marked failed at once.
_PERMANENT = {"malformed", "not_canonical", "too_large", "not_the_recipient", "unknown_type", "invalid",
              "no_such_council", "bad_act_signature", "moved"}


def deliver_due(now: datetime | None = None, peers=None) -> Delivery:
    """Deliver what is due, peer by peer, oldest first: a message waits until the one before it to the same peer is
    delivered or has failed for good (order per recipient)."""
    now = now or clock.now()
    report = Delivery()
    queue = Peer.objects.filter(outbox__status=OutboxStatus.PENDING).distinct()
    if peers is not None:
        queue = queue.filter(pk__in=[p.pk for p in peers])
    for peer in queue:
        while True:
            message = OutboxMessage.objects.filter(peer=peer, status=OutboxStatus.PENDING).order_by("pk").first()
            if message is None or message.next_attempt_at > now:
                break
            outcome = _attempt(peer, message, now)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if outcome == "retrying":
                break
    return report


def _attempt(peer: Peer, message: OutboxMessage, now: datetime) -> str:
    address = moved_to(message.council) if message.council_id and message.type != "affiliation.moved" else ""
    if address:  # written before the council moved away: its acts are no longer this server's to carry
        message.status = OutboxStatus.FAILED
        message.last_error = (f"not sent: {message.council.name} moved to {address} by its own decision before this "
                              "message left; act again from there")[:1000]
        logger.error("message %s (%s) to %s not sent: its council moved to %s", message.message_id, message.type,
                     peer.name, address)
        message.save(update_fields=["status", "last_error"])
        return "failed"
    body = message.body.encode()
    url = peer.url + INBOX
    headers = wire.sign_request(url, body, Ed25519PrivateKey.from_private_bytes(_server_private_key()),
                                wire.key_id_of(log.server_vkey()), now)
    try:
        status, answer = transport().post(url, headers, body)
    except OSError as error:
        status, answer = 0, {"detail": f"not reached: {error}"}
    message.attempts += 1
    code = answer.get("code") if isinstance(answer, dict) else None
    if 200 <= status < 300 or (status == 409 and code == "duplicate"):
        message.status, message.delivered_at, message.last_error = OutboxStatus.DELIVERED, now, ""
        outcome = "delivered"
    else:
        message.last_error = f"{status or 'no answer'}: {str(answer.get('detail', ''))[:900]}"
        if code in _PERMANENT or message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
            outcome = "failed"
            logger.error("message %s (%s) to %s cannot be delivered: %s", message.message_id, message.type, peer.name,
                         message.last_error)
        else:
            message.next_attempt_at = now + backoff(message.attempts)
            outcome = "retrying"
    message.save(update_fields=["attempts", "status", "delivered_at", "last_error", "next_attempt_at"])
    return outcome


# ----- the inbox ------------------------------------------------------------------------------------------------


def receive(method: str, url: str, headers, body: bytes) -> tuple[int, dict]:
    """Check a message from a peer and apply it; (HTTP status, JSON answer). Refusals are logged, nothing applied."""
    now = clock.now()
    peer = None
    try:
        key_id = wire.signature_key_id(headers)
        peer = Peer.objects.filter(key_id=key_id).first()
        if peer is None:
            raise Refused(403, "unknown_sender", f"{key_id!r} is not a server this one knows: its operator must add "
                          "it as a peer first (councils peer add URL)")
        wire.verify_request(method, url, headers, body, note.VerifierKey.parse(peer.vkey).public_key, now)
        message = wire.parse_envelope(body, peer.name, log.server_name())
        acts = wire.verify_acts(message["acts"])
        handler = _HANDLERS.get(message["type"])
        if handler is None:
            raise Refused(400, "unknown_type", f"this server does not know messages of type {message['type']!r}")
        try:
            with transaction.atomic():
                if InboxMessage.objects.filter(peer=peer, message_id=message["id"]).exists():
                    raise Refused(409, "duplicate", f"message {message['id']} was received and applied before")
                InboxMessage.objects.create(peer=peer, message_id=message["id"], type=message["type"],
                                            body=body.decode(), received_at=now)
                result = handler(peer, message, acts, now)
        except IntegrityError:
            raise Refused(409, "duplicate", f"message {message['id']} was received and applied before") from None
        except Gone as error:  # whatever path reached a council of this server that moved away
            raise Refused(410, "moved", str(error), location=error.location) from None
        except CouncilsError as error:
            raise Refused(422, "invalid", str(error)) from None
    except Refused as refusal:
        logger.warning("refused a message from %s: %s (%s)", peer.name if peer else "an unknown sender",
                       refusal.detail, refusal.code)
        return refusal.status, refusal.as_json()
    logger.info("applied %s %s from %s", message["type"], message["id"], peer.name)
    return 200, {"status": "applied", "id": message["id"], **(result or {})}


def _server_act_of(peer: Peer, acts, raw_acts: list, act: str, council: str, payload: dict) -> dict:
    """The one act of ``peer``'s server carried for this message: signed by its pinned key, naming the council the
    payload names and carrying the payload itself. Refused (403) otherwise."""
    server_key = note.VerifierKey.parse(peer.vkey).public_key
    for (statement, key), raw in zip(acts, raw_acts, strict=True):
        if statement.act == act:
            if key != server_key:
                raise Refused(403, "bad_act_signature", f"the {act} act is not signed by {peer.name}'s server key")
            if statement.council != council or not statement.has_content or statement.content != payload:
                raise Refused(403, "bad_act_signature", f"the {act} act does not say what the message says")
            return {"statement": raw["statement"], "signature": raw["signature"]}
    raise Refused(400, "malformed", f"a {act} message carries its {act} act, signed by the sending server")


def _here(council: Council) -> Council:
    """``council`` (of this server), unless it moved away by its own decision: then the message is refused with its
    new address (410, ``moved``) and nothing is applied."""
    address = moved_to(council)
    if address:
        raise Refused(410, "moved", f"{council.name} has moved to {address} by its own decision: send it there",
                      location=address)
    return council


def _carried(message: dict) -> list[dict]:
    return [{"statement": a["statement"], "signature": a["signature"], "public_key": a["public_key"]}
            for a in message["acts"]]


# ----- joining and leaving a federation on another server ---------------------------------------------------------


def request_affiliation(decision) -> OutboxMessage:
    """A council here decided to join a federation on another server: the request goes out with the decision, in
    the decision's transaction. The council is a member when the federation's answer comes back."""
    proposal = decision.proposal
    council, remote = proposal.council, remote_of(proposal.federation)
    payload = {"council": {"slug": council.slug, "name": council.name, "kind": council.kind},
               "federation": remote.remote_slug,
               "decision": {"id": decision.pk, "proposal": proposal.pk, "decided_at": st.format_time(decision.decided_at),
                            "outcome": decision.outcome, "url": f"{base_url()}/c/{council.slug}/p/{proposal.pk}/"}}
    act = _server_act("affiliation.request", council.slug, f"federation:{remote.remote_slug}", payload,
                      decision.decided_at)
    payload_acts = [act, *members_acts_behind(proposal)]
    append(council, kind="affiliation.requested", subject=decision.subject, state=decision.record_state(),
           at=decision.decided_at, decision=decision.pk, federation=f"{remote.remote_slug}@{remote.peer.name}")
    return send(remote.peer, "affiliation.request", payload, payload_acts, decision.decided_at, council)


MEMBER_ACTS = frozenset({"proposal.create", "proposal.publish", "ballot.cast", "ballot.participate"})


def members_acts_behind(proposal) -> list[dict]:
    """The members' own signed acts behind a council's decision, as its record keeps them: the proposal's creation
    and publication, and each ballot (an open ballot signed with its choice; a secret one, the signed
    participation only). The receiving server checks every signature itself."""
    from councils.accounts.models import MemberKey
    from councils.record.models import RecordEntry

    acts = []
    for row in RecordEntry.objects.filter(chain=proposal.council.record_chain).order_by("seq"):
        signed = (row.data or {}).get("signed") if isinstance(row.data, dict) else None
        if not signed:
            continue
        statement = st.parse_statement(signed["statement"].encode())
        if statement.act not in MEMBER_ACTS:
            continue
        if statement.object != proposal.subject and not (statement.act == "proposal.create" and row.subject == proposal.subject):
            continue
        key = MemberKey.objects.filter(key_id=statement.key).values_list("public_key", flat=True).first()
        if key:
            acts.append({"statement": signed["statement"], "signature": signed["signature"], "public_key": key})
    return acts


def announce_leaving(affiliation: Affiliation, decision) -> OutboxMessage:
    """A council here left a federation on another server (effective at once, here): the federation is told."""
    remote = remote_of(affiliation.federation)
    council = affiliation.council
    payload = {"council": council.slug, "federation": remote.remote_slug, "left_at": st.format_time(affiliation.left_at),
               "decision": {"id": decision.pk, "proposal": decision.proposal_id}}
    act = _server_act("affiliation.leave", council.slug, f"federation:{remote.remote_slug}", payload, affiliation.left_at)
    return send(remote.peer, "affiliation.leave", payload, [act], affiliation.left_at, council)


def _on_request(peer: Peer, message: dict, acts, now: datetime) -> dict:
    """A council on ``peer`` asks to join a federation here: the federation's admission rule decides, as for a
    council on this server (open: admitted at once; by vote: see docs/federation.md, not yet across servers)."""
    from councils.federation.services import current_affiliation, member_councils

    payload = message["payload"]
    council_data = payload.get("council")
    if not isinstance(council_data, dict) or not all(isinstance(council_data.get(k), str) for k in ("slug", "name", "kind")):
        raise Refused(400, "malformed", "an affiliation request names the council: slug, name and kind")
    act = _server_act_of(peer, acts, message["acts"], "affiliation.request", council_data["slug"], payload)
    members = [statement for statement, _ in acts if statement.act != "affiliation.request"]
    if any(statement.council != council_data["slug"] or statement.act not in MEMBER_ACTS for statement in members):
        raise Refused(403, "bad_act_signature", "a carried member act is not one of the asking council's acts behind its decision")
    federation = Council.objects.filter(slug=payload.get("federation"), kind=CouncilKind.FEDERATION,
                                        remote__isnull=True).first()
    if federation is None:
        raise Refused(404, "no_such_council", f"no federation {payload.get('federation')!r} on this server")
    _here(federation)
    council = stand_in(peer, council_data["slug"], council_data["name"], council_data["kind"], now)
    lock_chains(council, federation)
    affiliation = current_affiliation(federation, council)
    if affiliation is None:
        if federation.charter.admission == "vote" and member_councils(federation, now).exists():
            raise Invalid(f"{federation.name} admits councils by its members' vote, which does not yet reach councils "
                          "on other servers: ask its members to change the admission rule, or wait for this feature")
        affiliation = Affiliation.objects.create(federation=federation, council=council, joined_at=now,
                                                 joined_by_message=message["id"])
        for chain in (council, federation):
            append(chain, kind="affiliation.joined", subject=affiliation.subject, state=affiliation.record_state(),
                   at=now, message=message["id"], server=peer.name, act=act["statement"],
                   signature=act["signature"], members_acts_checked=len(members))
    answer = {"federation": federation.slug, "council": council_data["slug"], "joined_at": st.format_time(affiliation.joined_at),
              "request": message["id"]}
    send(peer, "affiliation.admitted", answer,
         [_server_act("affiliation.admitted", federation.slug, f"council:{council_data['slug']}", answer, now)], now,
         federation)
    return {"admitted": True}


def _on_admitted(peer: Peer, message: dict, acts, now: datetime) -> dict:
    """The federation on ``peer`` admitted a council of this server: it is a member from the federation's moment."""
    payload = message["payload"]
    act = _server_act_of(peer, acts, message["acts"], "affiliation.admitted", str(payload.get("federation")), payload)
    request = OutboxMessage.objects.filter(peer=peer, message_id=payload.get("request"), type="affiliation.request").first()
    if request is None:
        raise Refused(404, "no_such_council", "this server sent no such affiliation request")
    asked = json.loads(request.body)["payload"]
    if asked["federation"] != payload.get("federation") or asked["council"]["slug"] != payload.get("council"):
        raise Refused(403, "bad_act_signature", "the answer names another council or federation than the request")
    council = Council.objects.filter(slug=payload["council"], remote__isnull=True).first()
    federation = RemoteCouncil.objects.filter(peer=peer, remote_slug=payload["federation"]).first()
    if council is None or federation is None:
        raise Refused(404, "no_such_council", "the council or the federation is no longer known here")
    _here(council)
    federation = federation.council
    decision = Decision.objects.filter(pk=asked["decision"]["id"]).first()
    try:
        joined_at = st.parse_time(payload["joined_at"])
    except (st.StatementError, KeyError, TypeError):
        raise Refused(400, "malformed", "joined_at is a time as statements write it") from None
    lock_chains(council, federation)
    from councils.federation.services import current_affiliation

    if current_affiliation(federation, council) is None:
        affiliation = Affiliation.objects.create(federation=federation, council=council, joined_at=joined_at,
                                                 joined_by=decision, joined_by_message=message["id"])
        for chain in (council, federation):
            append(chain, kind="affiliation.joined", subject=affiliation.subject, state=affiliation.record_state(),
                   at=now, decision=decision.pk if decision else None, message=message["id"], server=peer.name,
                   act=act["statement"], signature=act["signature"])
    return {"joined": True}


def _on_leave(peer: Peer, message: dict, acts, now: datetime) -> dict:
    """A council on ``peer`` left a federation here by its own decision: effective at once."""
    from councils.federation.services import current_affiliation, end_delegations_at

    payload = message["payload"]
    act = _server_act_of(peer, acts, message["acts"], "affiliation.leave", str(payload.get("council")), payload)
    known = RemoteCouncil.objects.filter(peer=peer, remote_slug=payload.get("council")).first()
    federation = Council.objects.filter(slug=payload.get("federation"), kind=CouncilKind.FEDERATION,
                                        remote__isnull=True).first()
    if known is None or federation is None:
        raise Refused(404, "no_such_council", "no such council or federation here")
    _here(federation)
    affiliation = current_affiliation(federation, known.council)
    if affiliation is not None:
        lock_chains(known.council, federation)
        affiliation.left_at = now
        affiliation.save(update_fields=["left_at"])
        end_delegations_at(known.council, federation, now)
        for chain in (known.council, federation):
            append(chain, kind="affiliation.left", subject=affiliation.subject, state=affiliation.record_state(),
                   at=now, message=message["id"], server=peer.name, act=act["statement"],
                   signature=act["signature"])
    return {"left": True}


def announce_move(affiliation: Affiliation, destination: str, at: datetime) -> OutboxMessage:
    """A council here moved to another server by its own decision while a member of a federation on another server:
    the federation is told the new address (the move's own message, sent although the council has moved)."""
    remote = remote_of(affiliation.federation)
    council = affiliation.council
    payload = {"council": council.slug, "federation": remote.remote_slug, "destination": destination,
               "moved_at": st.format_time(at)}
    act = _server_act("affiliation.moved", council.slug, f"federation:{remote.remote_slug}", payload, at)
    return send(remote.peer, "affiliation.moved", payload, [act], at, council)


def _on_moved(peer: Peer, message: dict, acts, now: datetime) -> dict:
    """A member council on ``peer`` moved to another server by its own decision: the federation here records the new
    address on its chain, as for a council of this server; the affiliation itself is unchanged."""
    from councils.federation.services import current_affiliation

    payload = message["payload"]
    act = _server_act_of(peer, acts, message["acts"], "affiliation.moved", str(payload.get("council")), payload)
    destination = payload.get("destination")
    if not isinstance(destination, str) or not re.match(r"https?://[^\s/]+", destination) or len(destination) > 400:
        raise Refused(400, "malformed", "a move names the council's new address, an http or https URL")
    known = RemoteCouncil.objects.filter(peer=peer, remote_slug=payload.get("council")).select_related("council").first()
    federation = Council.objects.filter(slug=payload.get("federation"), kind=CouncilKind.FEDERATION,
                                        remote__isnull=True).first()
    if known is None or federation is None:
        raise Refused(404, "no_such_council", "no such council or federation here")
    _here(federation)
    affiliation = current_affiliation(federation, known.council)
    if affiliation is None:
        raise Refused(404, "no_such_council", f"{known.council.name} is not a member of {federation.name} here")
    lock_chains(federation)
    append(federation, kind="affiliation.moved", subject=affiliation.subject, state=affiliation.record_state(), at=now,
           destination=destination, council=known.council.pk, council_chain=known.council.record_chain,
           message=message["id"], server=peer.name, act=act["statement"], signature=act["signature"])
    return {"recorded": True}


# ----- mandates: the federation's proposal down, the council's mandated ballot up ------------------------------------


def request_mandate(proposal, council: Council, now: datetime) -> OutboxMessage:
    """A federation here puts a question to its member councils; ``council`` lives on another server: the proposal
    goes down to it as a message, in the transaction that publishes the proposal."""
    remote = remote_of(council)
    payload = {"federation": proposal.council.slug, "council": remote.remote_slug,
               "proposal": {"id": proposal.pk, "title": proposal.title, "body": proposal.body, "kind": proposal.kind,
                            "decision_method": proposal.decision_method, "seats": proposal.seats,
                            "options": [o.label for o in proposal.options.all()],
                            "deliberation_ends": st.format_time(proposal.deliberation_ends),
                            "voting_ends": st.format_time(proposal.voting_ends),
                            "url": f"{base_url()}/c/{proposal.council.slug}/p/{proposal.pk}/"}}
    act = _server_act("mandate.request", proposal.council.slug, f"proposal:{proposal.pk}", payload, now)
    return send(remote.peer, "mandate.request", payload, [act], now, proposal.council)


def stand_in_author(peer: Peer):
    """Who a proposal sent down by a federation on ``peer`` is by, here: an account that cannot log in, named after
    the server (a name the sign-up form refuses, so no person can hold it)."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username=f"server:{peer.name}"[:150],
                                                           defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _on_mandate_request(peer: Peer, message: dict, acts, now: datetime) -> dict:
    """A federation on ``peer`` asks this server's member council for its mandate: a mandate vote opens here, closing
    when the federation's deliberation ends, as for a council on the federation's own server."""
    from councils.decisions.services import new_proposal
    from councils.federation.models import FederationKind
    from councils.federation.services import current_affiliation

    payload = message["payload"]
    _server_act_of(peer, acts, message["acts"], "mandate.request", str(payload.get("federation")), payload)
    asked = payload.get("proposal")
    try:
        options = [str(label) for label in asked["options"]]
        deliberation_ends = st.parse_time(asked["deliberation_ends"])
        target_id, title, body = int(asked["id"]), str(asked["title"]), str(asked["body"])
        method, seats = str(asked["decision_method"]), int(asked["seats"])
    except (KeyError, TypeError, ValueError, st.StatementError):
        raise Refused(400, "malformed", "a mandate request names the proposal: id, title, body, decision_method, "
                      "seats, options, deliberation_ends, voting_ends") from None
    federation = RemoteCouncil.objects.filter(peer=peer, remote_slug=payload.get("federation")).select_related("council").first()
    council = Council.objects.filter(slug=payload.get("council"), remote__isnull=True).first()
    if council is not None:
        _here(council)
    if federation is None or council is None or current_affiliation(federation.council, council) is None:
        raise Refused(404, "no_such_council", "no such member council of that federation here")
    if RemoteMandate.objects.filter(peer=peer, federation=federation.council, remote_proposal=target_id,
                                    mandate__council=council).exists():
        return {"mandate": "already open"}
    mandate = new_proposal(
        council, stand_in_author(peer), now, kind=FederationKind.MANDATE, title=f"Mandate: {title}"[:200],
        body=f"{federation.council.name} (on {peer.name}) decides this; our delegates will vote as we mandate.\n\n{body}",
        deliberation_ends=now, voting_ends=max(deliberation_ends, now + timedelta(minutes=1)), decision_method=method,
        options=[{"label": label, "description": "", "member": None} for label in options], level=1,
        federation=federation.council, seats=seats)
    RemoteMandate.objects.create(mandate=mandate, peer=peer, federation=federation.council, remote_proposal=target_id)
    return {"mandate": mandate.pk}


def send_mandated_ballot(decision) -> OutboxMessage | None:
    """This council's mandate vote closed: its ballot goes up to the federation's server with the members' signed
    ballots behind it, in the decision's transaction."""
    target = RemoteMandate.objects.filter(mandate=decision.proposal).select_related("peer", "federation").first()
    if target is None:
        return None
    mandate = decision.proposal
    remote = remote_of(target.federation)
    tally = decision.tally or {}
    ranking = tally.get("ranking") or ([[w] for w in tally.get("winners") or []])
    payload = {"federation": remote.remote_slug, "council": mandate.council.slug, "proposal": target.remote_proposal,
               "outcome": decision.outcome, "yes": decision.yes, "no": decision.no,
               "ranking": [[str(label) for label in group] for group in ranking],
               "decided_at": st.format_time(decision.decided_at)}
    act = _server_act("mandate.ballot", mandate.council.slug, f"proposal:{target.remote_proposal}", payload,
                      decision.decided_at)
    return send(target.peer, "mandate.ballot", payload, [act, *members_acts_behind(mandate)], decision.decided_at,
                mandate.council)


def _on_mandate_ballot(peer: Peer, message: dict, acts, now: datetime) -> dict:
    """A member council on ``peer`` voted its mandate: its ballot counts in the federation's vote here, if it arrives
    while the vote is open."""
    from councils.decisions.models import Proposal
    from councils.federation.services import cast_remote_mandate

    payload = message["payload"]
    _server_act_of(peer, acts, message["acts"], "mandate.ballot", str(payload.get("council")), payload)
    members = [statement for statement, _ in acts if statement.act != "mandate.ballot"]
    if any(statement.council != payload.get("council") or statement.act not in MEMBER_ACTS for statement in members):
        raise Refused(403, "bad_act_signature", "a carried member act is not one of the council's acts behind its mandate")
    known = RemoteCouncil.objects.filter(peer=peer, remote_slug=payload.get("council")).select_related("council").first()
    target = Proposal.objects.filter(pk=payload.get("proposal"), council__slug=payload.get("federation"),
                                     council__remote__isnull=True).first()
    if known is None or target is None:
        raise Refused(404, "no_such_council", "no such council or federation proposal here")
    _here(target.council)
    if not now < target.voting_ends or target.withdrawn_at is not None:
        raise Invalid(f"the federation's vote on {target.title!r} is closed: the mandate came too late")
    try:
        yes, no = int(payload["yes"]), int(payload["no"])
        ranking = [[str(label) for label in group] for group in payload["ranking"]]
    except (KeyError, TypeError, ValueError):
        raise Refused(400, "malformed", "a mandated ballot has yes, no and ranking") from None
    ballot = cast_remote_mandate(target, known.council, now, outcome=str(payload.get("outcome")), yes=yes, no=no,
                                 ranking_labels=ranking)
    return {"ballot": ballot.pk if ballot else None}


def _on_ping(peer: Peer, message: dict, acts, now: datetime) -> dict:
    return {"pong": log.server_name()}


_HANDLERS = {
    "affiliation.request": _on_request,
    "affiliation.admitted": _on_admitted,
    "affiliation.leave": _on_leave,
    "affiliation.moved": _on_moved,
    "mandate.request": _on_mandate_request,
    "mandate.ballot": _on_mandate_ballot,
    "ping": _on_ping,
}


def ping(peer: Peer) -> OutboxMessage:
    """A message that asks nothing: checks that the peer knows this server and accepts its signature."""
    with transaction.atomic():
        return send(peer, "ping", {}, [], clock.now())


def undeliverable():
    """Messages that will not be delivered (refused for good, or every attempt failed): shown on the pages."""
    return OutboxMessage.objects.filter(status=OutboxStatus.FAILED).select_related("peer", "council").order_by("-pk")


def messages_of(council: Council, limit: int = 20) -> list[OutboxMessage]:
    """The latest messages carrying this council's acts to other servers, for its page."""
    return list(OutboxMessage.objects.filter(council=council).select_related("peer").order_by("-pk")[:limit])
