"""Number every history record in its product's change feed: the existing ones in the order they
were written (by id), and each product's counter at its last number."""

from django.db import migrations, models


def number_events(apps, schema_editor):
    event_table = apps.get_model("backlog", "ItemEvent")._meta.db_table
    product_table = apps.get_model("accounts", "Product")._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    events, products = quote(event_table), quote(product_table)
    schema_editor.execute(
        f"UPDATE {events} SET seq = numbered.n FROM ("
        f"SELECT id, row_number() OVER (PARTITION BY product_id ORDER BY id) AS n FROM {events}"
        f") AS numbered WHERE {events}.id = numbered.id"
    )
    schema_editor.execute(
        f"UPDATE {products} SET last_change_seq = COALESCE("
        f"(SELECT MAX(seq) FROM {events} WHERE {events}.product_id = {products}.id), 0)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_change_feed_counter_idempotency_keys"),
        ("backlog", "0005_stale_suggestions"),
    ]

    operations = [
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
