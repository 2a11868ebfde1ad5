"""The stored chains as transparency logs: each chain is also a Merkle tree (RFC 9162) over its entries, whose
checkpoints the server signs (C2SP tlog-checkpoint in a C2SP signed note) and witnesses cosign.

A leaf is an entry's canonical JSON (all its fields, its hash included), so a verifier that holds the leaves holds
the entries. The tree's complete subtrees are stored as they are completed (``TreeNode``), so appending costs
O(log n) and every root and proof is read from at most O(log n) stored nodes.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from councils import clock
from councils.adapters import sql
from councils.record import note, tree
from councils.record.models import (
    Chain,
    Checkpoint,
    Cosignature,
    RecordEntry,
    TreeNode,
    chain_of,
)

MAX_LEAVES_PAGE = 1000
_key_lock = threading.Lock()


# ----- the server's key ---------------------------------------------------------------------------


def server_name() -> str:
    """The name the server signs with and puts before its chains' names in checkpoint origins."""
    name = getattr(settings, "COUNCILS_SERVER_NAME", "") or urlsplit(settings.SITE_URL).netloc or "councils"
    if not note.is_valid_name(name):
        raise ValueError(f"COUNCILS_SERVER_NAME {name!r} is not a valid key name (no spaces, no '+')")
    return name


def _key_file() -> Path:
    return Path(getattr(settings, "COUNCILS_SERVER_KEY_FILE", "") or settings.DATA_DIR / "server_key")


@lru_cache(maxsize=4)
def _signer_for(name: str, path: str) -> note.SignerKey:
    file = Path(path)
    with _key_lock:
        if file.exists():
            signer = note.SignerKey.parse(file.read_text().strip())
            if signer.name != name:
                raise ValueError(f"the server key in {file} is named {signer.name!r}, not {name!r}: "
                                 "set COUNCILS_SERVER_NAME to its name, or move the key away to make a new one")
            return signer
        signer = note.SignerKey.generate(name)
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(signer.encode() + "\n")
        return signer


def server_signer() -> note.SignerKey:
    """The server's Ed25519 note key: made on first use and kept in the data folder (``server_key``)."""
    return _signer_for(server_name(), str(_key_file()))


def server_vkey() -> str:
    return str(server_signer().verifier())


def origin(chain: str) -> str:
    return f"{server_name()}/{chain}"


# ----- appending ------------------------------------------------------------------------------------


_string = json.JSONEncoder(ensure_ascii=False).encode


def leaf_bytes(row: RecordEntry) -> bytes:
    """The entry's canonical JSON: ``canonical_json(row.as_entry().to_dict())``, assembled from the stored strings
    (``data_json`` is already the canonical JSON of the data, and the keys' order is fixed), which is what makes
    serving a million leaves cheap."""
    return (f'{{"actor":{_string(row.actor)},"at":{_string(row.at)},"chain":{_string(row.chain)},'
            f'"data":{row.data_json},"hash":{_string(row.hash)},"kind":{_string(row.kind)},'
            f'"prev_hash":{_string(row.prev_hash)},"seq":{int(row.seq)},"subject":{_string(row.subject)}}}').encode()


def _nodes(chain: str, keys) -> dict:
    """The stored nodes at ``keys`` ((level, index) pairs), in one query."""
    wanted = {TreeNode.key_of(level, index): (level, index) for level, index in keys}
    if not wanted:
        return {}
    rows = TreeNode.objects.filter(chain=chain, key__in=list(wanted)).values_list("key", "hash")
    return {wanted[key]: bytes(digest) for key, digest in rows}


def _append_leaves(chain_row: Chain, rows) -> None:
    size = chain_row.tree_size
    new_nodes: dict = {}
    for row in rows:
        needed = [k for k in tree.append_keys(size) if k not in new_nodes]
        known = {**_nodes(chain_row.name, needed), **new_nodes}
        for key, digest in tree.append_leaf(size, tree.leaf_hash(leaf_bytes(row)), known):
            new_nodes[key] = digest
        size += 1
    TreeNode.objects.bulk_create([TreeNode(chain=chain_row.name, key=TreeNode.key_of(level, index), hash=digest)
                                  for (level, index), digest in new_nodes.items()])
    chain_row.tree_size = size
    chain_row.save(update_fields=["tree_size"])


def add_entry(chain: str, row: RecordEntry, *, chain_id: int | None = None, tree_size: int | None = None) -> None:
    """Add a just-appended entry to its chain's tree (inside the append's transaction, under the chain's lock).
    ``chain_id`` and ``tree_size``: the chain row as the append read it under the lock."""
    if chain_id is None or tree_size != row.seq:
        chain_row = Chain.objects.get(name=chain)
        if chain_row.tree_size != row.seq:
            # Entries written before the chain had a tree (or by an older version) join it first, in order.
            _append_leaves(chain_row, RecordEntry.objects.filter(chain=chain, seq__gte=chain_row.tree_size, seq__lt=row.seq).order_by("seq"))
        _append_leaves(chain_row, [row])
        return
    # The common case, on every act: O(log n) nodes read in at most one statement, written in one, the size in one.
    needed = tree.append_keys(tree_size)
    known = _nodes_sql(chain, needed) if needed else {}
    new_nodes = tree.append_leaf(tree_size, tree.leaf_hash(leaf_bytes(row)), known)
    params = []
    for (level, index), digest in new_nodes:
        params += [chain, TreeNode.key_of(level, index), digest]
    sql.run(f"INSERT INTO {sql.table(TreeNode)} ({sql.quote('chain')}, {sql.quote('key')}, {sql.quote('hash')}) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(new_nodes)), params)
    sql.run(_SIZE_SQL, [tree_size + 1, chain_id])


_SIZE_SQL = f"UPDATE {sql.table(Chain)} SET {sql.quote('tree_size')} = %s WHERE {sql.quote('id')} = %s"


def _nodes_sql(chain: str, keys) -> dict:
    """``_nodes`` in a statement written once per number of keys."""
    wanted = {TreeNode.key_of(level, index): (level, index) for level, index in keys}
    rows = sql.many(f"SELECT {sql.quote('key')}, {sql.quote('hash')} FROM {sql.table(TreeNode)} "
                    f"WHERE {sql.quote('chain')} = %s AND {sql.quote('key')} IN ({', '.join(['%s'] * len(wanted))})",
                    [chain, *wanted])
    return {wanted[key]: bytes(digest) for key, digest in rows}


def add_entries(chain: str, rows) -> None:
    """Add just-appended entries, in order, to their chain's tree (``record.services.append_many``)."""
    chain_row = Chain.objects.get(name=chain)
    if rows and chain_row.tree_size != rows[0].seq:
        raise ValueError(f"chain {chain}: the tree holds {chain_row.tree_size} leaves, the first new entry is #{rows[0].seq}")
    _append_leaves(chain_row, rows)


def sync(owner) -> int:
    """Bring a chain's tree up to its entries (for chains older than their trees); returns its size."""
    chain = chain_of(owner)
    from councils.record.services import lock_chains

    with transaction.atomic():
        lock_chains(chain)
        chain_row = Chain.objects.get(name=chain)
        count = RecordEntry.objects.filter(chain=chain).count()
        if chain_row.tree_size < count:
            _append_leaves(chain_row, RecordEntry.objects.filter(chain=chain).order_by("seq")[chain_row.tree_size:])
        return chain_row.tree_size


# ----- reading: roots, proofs, checkpoints ------------------------------------------------------------


def size_of(chain: str) -> int:
    row = Chain.objects.filter(name=chain).first()
    if row is None:
        raise LookupError(f"no chain {chain!r}")
    if row.tree_size < RecordEntry.objects.filter(chain=chain).count():
        return sync(chain)
    return row.tree_size


def root(chain: str, size: int) -> bytes:
    return tree.root_hash(size, _nodes(chain, tree.root_keys(size)))


def inclusion_proof(chain: str, index: int, size: int) -> list[bytes]:
    return tree.inclusion_proof(index, size, _nodes(chain, tree.inclusion_proof_keys(index, size)))


def consistency_proof(chain: str, first: int, second: int) -> list[bytes]:
    return tree.consistency_proof(first, second, _nodes(chain, tree.consistency_proof_keys(first, second)))


def leaves(chain: str, start: int, end: int) -> list[bytes]:
    rows = RecordEntry.objects.filter(chain=chain, seq__gte=start, seq__lt=end).order_by("seq")
    return [leaf_bytes(row) for row in rows]


def latest_checkpoint(chain: str) -> Checkpoint:
    """The signed checkpoint of the chain at its current size (signed now if that size was never signed)."""
    size = size_of(chain)
    stored = Checkpoint.objects.filter(chain=chain, size=size).first()
    if stored is not None:
        return stored
    body = note.Checkpoint(origin=origin(chain), size=size, root_hash=root(chain, size))
    signed = note.sign_checkpoint(body, server_signer())
    stored, _ = Checkpoint.objects.get_or_create(chain=chain, size=size, defaults={"note": signed, "signed_at": clock.now()})
    return stored


def checkpoint_with_cosignatures(checkpoint: Checkpoint) -> str:
    """The signed note with the cosignatures witnesses sent back, after the server's own signature."""
    signatures = []
    for cosignature in checkpoint.cosignatures.order_by("witness"):
        signatures.extend(note.parse_note("cosigned\n\n" + cosignature.line).signatures)
    return note.add_signatures(checkpoint.note, signatures) if signatures else checkpoint.note


def add_cosignature(chain: str, signed_note: str, witness_vkey: str) -> Cosignature:
    """Keep a witness's cosignature of one of this server's checkpoints: the note must carry the server's own
    signature on a checkpoint it signed, and a valid cosignature by ``witness_vkey``."""
    witness = note.VerifierKey.parse(witness_vkey)
    if witness.alg != note.ALG_COSIGNATURE_V1:
        raise ValueError("the witness key is not a cosignature (type 0x04) key")
    opened = note.open_checkpoint(signed_note, server_signer().verifier(), [witness])
    if not opened.cosignatures:
        raise ValueError(f"the note carries no cosignature by {witness.name}")
    body = opened.checkpoint
    if body.origin != origin(chain):
        raise ValueError(f"the checkpoint is for {body.origin!r}, not {origin(chain)!r}")
    stored = Checkpoint.objects.filter(chain=chain, size=body.size).first()
    if stored is None or note.parse_note(stored.note).text != opened.note.text:
        raise ValueError("this server never signed that checkpoint")
    line = opened.note.signed_by(witness).line()
    cosignature, _ = Cosignature.objects.update_or_create(
        checkpoint=stored, witness=witness.name, key_id=witness.key_id.hex(),
        defaults={"line": line, "received_at": clock.now()},
    )
    return cosignature
