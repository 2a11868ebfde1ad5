"""The chain as stored: one row per record entry, per council."""

from __future__ import annotations

import json

from django.db import models

from councils.record.chain import Entry


class RecordEntry(models.Model):
    council = models.ForeignKey("assemblies.Council", on_delete=models.PROTECT, related_name="record_entries")
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
        ordering = ["council_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["council", "seq"], name="record_entry_unique_seq")]
        verbose_name_plural = "record entries"

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.kind}"

    @property
    def chain(self) -> str:
        return chain_name(self.council_id)

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


def chain_name(council_id: int) -> str:
    return f"council/{council_id}"
