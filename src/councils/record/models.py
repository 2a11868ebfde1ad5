"""The chains as stored: one row per chain (its lock), one row per record entry.

A chain is known by its name ("council/12"); the record keeps no link to whatever owns a chain, so any app can
keep one and the record can be exported, verified and moved without the apps' models.
"""

from __future__ import annotations

import json

from django.db import models

from councils.record.chain import Entry


class Chain(models.Model):
    """One row per chain: appending locks it, so the entries of one chain are written one after another."""

    name = models.CharField(max_length=80, unique=True)
    # How many of the chain's entries are leaves of its Merkle tree (record.log keeps it up to date).
    tree_size = models.PositiveBigIntegerField(default=0)
    # Set when the chain's owner moved to another server by its own decision (free exit): the chain's last entry says
    # so, and nothing is appended after it.
    moved_to = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.name


class TreeNode(models.Model):
    """The hash of one complete subtree of a chain's Merkle tree: node (level, index) covers the leaves
    [index * 2**level, (index + 1) * 2**level). Written once, never changed (record.tree)."""

    chain = models.CharField(max_length=80)
    # (level, index) as one number, level in the top byte: one indexed IN (...) finds every node a proof needs.
    key = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "key"], name="tree_node_unique")]

    @staticmethod
    def key_of(level: int, index: int) -> int:
        return (level << 56) | index

    @property
    def level(self) -> int:
        return self.key >> 56

    @property
    def index(self) -> int:
        return self.key & ((1 << 56) - 1)


class Checkpoint(models.Model):
    """A checkpoint the server signed (C2SP tlog-checkpoint in a signed note), kept so that witnesses' cosignatures
    attach to it and consistency can be proved from it."""

    chain = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    note = models.TextField()  # the signed note, the server's signature only
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "size"], name="checkpoint_unique_size")]


class Cosignature(models.Model):
    """A witness's cosignature (C2SP tlog-cosignature) on a checkpoint: the signature line as the witness sent it."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="cosignatures")
    witness = models.CharField(max_length=200)  # the witness's key name
    key_id = models.CharField(max_length=8)  # hex
    line = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness", "key_id"], name="cosignature_unique")]


class RecordEntry(models.Model):
    chain = models.CharField(max_length=80)
    seq = models.PositiveIntegerField()
    # Stored as the exact strings that were hashed, so no database type
    # conversion (time zones, jsonb normalisation) can change what is verified.
    at = models.CharField(max_length=40)
    actor = models.CharField(max_length=150, null=True, blank=True)
    kind = models.CharField(max_length=60)
    subject = models.CharField(max_length=80, db_index=True)
    data_json = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="record_entry_unique_chain_seq")]
        verbose_name_plural = "record entries"

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.kind}"

    @property
    def data(self) -> dict:
        return json.loads(self.data_json)

    def as_entry(self) -> Entry:
        return Entry(
            chain=self.chain,
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            kind=self.kind,
            subject=self.subject,
            data=json.loads(self.data_json),
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


def chain_of(owner) -> str:
    """The chain name of ``owner``: a name, or anything with a ``record_chain`` (a council)."""
    return owner if isinstance(owner, str) else owner.record_chain


class Content(models.Model):
    """Text that the record vouches for without carrying it: an entry holds ``{"sha256": ...}``, the hash of a random
    nonce and the text, and the text lives here, beside the chain. Moderation hides a text (``hidden_at``) without
    breaking the chain: the entry's hash never changes, and while hidden neither the text nor its nonce is published,
    so a short text cannot be guessed from its hash. Verification checks every row against its hash."""

    sha256 = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=32)
    subject = models.CharField(max_length=80, db_index=True)  # whose text it is ("comment:12", "proposal:3")
    text = models.TextField()
    # The text's own hash, never published: finds the row again for the same subject and text.
    text_sha256 = models.CharField(max_length=64, db_index=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"content {self.sha256[:12]} of {self.subject}"


class Archive(models.Model):
    """A chain carried over from another server (free exit): the origin's leaves exactly as its signed checkpoint
    covers them, with the origin's key, so that anyone can check them here as they could there. The local chain
    ``chain`` continues it: its first entry names this checkpoint."""

    chain = models.CharField(max_length=80, db_index=True)  # the local chain that continues the archived one
    origin = models.CharField(max_length=300)  # the checkpoint's origin line: "<origin server>/<origin chain>"
    vkey = models.TextField()  # the origin server's verifier key (signed-note vkey form)
    checkpoint = models.TextField()  # the origin's signed checkpoint over every archived leaf
    size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)  # hex
    imported_at = models.DateTimeField()
    # Rows the council brought that this server does not rebuild (they belong with a federation or a catalogue held
    # elsewhere), as the file held them ({file name: rows}), links to rebuilt rows and members rewritten to this
    # server's keys: exported again with the council.
    carried = models.TextField(default="{}")

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["origin", "root_hash"], name="archive_unique_checkpoint")]

    def __str__(self):
        return f"{self.origin} ({self.size} entries) continued by {self.chain}"


class ArchivedLeaf(models.Model):
    archive = models.ForeignKey(Archive, on_delete=models.PROTECT, related_name="leaves")
    seq = models.PositiveIntegerField()
    leaf = models.TextField()  # the entry's canonical JSON, as the origin served it

    class Meta:
        ordering = ["archive", "seq"]
        constraints = [models.UniqueConstraint(fields=["archive", "seq"], name="archived_leaf_unique_seq")]


class SubjectAlias(models.Model):
    """What a subject of this server was called on the server it came from: rows get new keys here ("proposal:3"),
    the archived record speaks of the origin's ("proposal:12"). The arrival entries of the local chain hold the
    same pairs, so the mapping is itself in the record."""

    archive = models.ForeignKey(Archive, on_delete=models.PROTECT, related_name="aliases")
    subject = models.CharField(max_length=80, db_index=True)
    origin_subject = models.CharField(max_length=80)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["archive", "origin_subject"], name="alias_unique_origin")]
