"""Register every chain that already has entries in the chain of chains (``record.services.REGISTRY``)."""

from django.db import migrations

from councils.record.chain import canonical_json, next_entry

REGISTRY = "record/chains"


def register_chains(apps, schema_editor):
    RecordEntry = apps.get_model("record", "RecordEntry")
    Chain = apps.get_model("record", "Chain")
    if RecordEntry.objects.filter(chain=REGISTRY).exists():
        return
    Chain.objects.get_or_create(name=REGISTRY)
    head = None
    for name in sorted(set(RecordEntry.objects.values_list("chain", flat=True))):
        first = RecordEntry.objects.filter(chain=name).order_by("seq").first()
        # Stamped at the chain's first entry: the registration says when the chain began, not when it was migrated.
        head = next_entry(head, chain=REGISTRY, at=first.at, actor=None, kind="chain.opened", subject=f"chain:{name}",
                          data={"state": {"name": name}})
        RecordEntry.objects.create(chain=REGISTRY, seq=head.seq, at=head.at, actor=None, kind=head.kind,
                                   subject=head.subject, data_json=canonical_json(head.data).decode("utf-8"),
                                   prev_hash=head.prev_hash, hash=head.hash)


class Migration(migrations.Migration):

    dependencies = [
        ("record", "0002_chains_by_name"),
    ]

    operations = [migrations.RunPython(register_chains, migrations.RunPython.noop)]
