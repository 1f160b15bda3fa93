"""Number every history record in its product's change feed: the existing ones in the order they
were written (by id), and each product's counter (``ChangeSequence``) at its last number."""

import django.db.models.deletion
from django.db import migrations, models


def number_events(apps, schema_editor):
    event_table = apps.get_model("backlog", "ItemEvent")._meta.db_table
    counter_table = apps.get_model("backlog", "ChangeSequence")._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    events, counters = quote(event_table), quote(counter_table)
    schema_editor.execute(
        f"UPDATE {events} SET seq = numbered.n FROM ("
        f"SELECT id, row_number() OVER (PARTITION BY product_id ORDER BY id) AS n FROM {events}"
        f") AS numbered WHERE {events}.id = numbered.id"
    )
    schema_editor.execute(
        f"INSERT INTO {counters} (product_id, last_seq) SELECT product_id, MAX(seq) FROM {events} GROUP BY product_id"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_team_profiles_audit_invitations_inbox"),
        ("backlog", "0008_saved_views"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeSequence",
            fields=[
                (
                    "product",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="accounts.product",
                    ),
                ),
                ("last_seq", models.PositiveBigIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="itemevent",
            name="seq",
            field=models.PositiveBigIntegerField(null=True, editable=False, verbose_name="sequence"),
        ),
        migrations.RunPython(number_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="itemevent",
            name="seq",
            field=models.PositiveBigIntegerField(
                editable=False,
                help_text="Its place in the product's change feed: 1, 2, 3, … in commit order (backlog.history.write).",
                verbose_name="sequence",
            ),
        ),
        migrations.AddIndex(
            model_name="itemevent",
            index=models.Index(fields=["item", "seq"], name="event_item_seq"),
        ),
        migrations.AddConstraint(
            model_name="itemevent",
            constraint=models.UniqueConstraint(fields=("product", "seq"), name="event_seq_unique_per_product"),
        ),
    ]
