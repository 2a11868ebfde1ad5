"""The record keys its chains by name and keeps no link to the councils' table."""

from django.db import migrations, models


def name_chains(apps, schema_editor):
    RecordEntry = apps.get_model("record", "RecordEntry")
    Chain = apps.get_model("record", "Chain")
    council_ids = sorted(set(RecordEntry.objects.values_list("council_id", flat=True)))
    for council_id in council_ids:
        name = f"council/{council_id}"
        Chain.objects.create(name=name)
        RecordEntry.objects.filter(council_id=council_id).update(chain=name)


def unname_chains(apps, schema_editor):
    RecordEntry = apps.get_model("record", "RecordEntry")
    for chain in set(RecordEntry.objects.values_list("chain", flat=True)):
        RecordEntry.objects.filter(chain=chain).update(council_id=int(chain.split("/", 1)[1]))


class Migration(migrations.Migration):

    dependencies = [
        ("record", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Chain",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=80, unique=True)),
            ],
            options={"ordering": ["pk"]},
        ),
        migrations.AddField(model_name="recordentry", name="chain", field=models.CharField(default="", max_length=80)),
        migrations.RunPython(name_chains, unname_chains),
        migrations.RemoveConstraint(model_name="recordentry", name="record_entry_unique_seq"),
        migrations.AlterModelOptions(
            name="recordentry", options={"ordering": ["chain", "seq"], "verbose_name_plural": "record entries"},
        ),
        migrations.RemoveField(model_name="recordentry", name="council"),
        migrations.AlterField(model_name="recordentry", name="chain", field=models.CharField(max_length=80)),
        migrations.AddConstraint(
            model_name="recordentry",
            constraint=models.UniqueConstraint(fields=("chain", "seq"), name="record_entry_unique_chain_seq"),
        ),
    ]
