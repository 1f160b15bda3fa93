"""The partial index of long rank keys (``item_long_rank``), from which the hourly job finds them.

On PostgreSQL it is built CONCURRENTLY (outside a transaction): a plain CREATE INDEX holds a lock
that stops every write to the item table while it scans the table, seconds on a table of a million
items. Should a concurrent build fail, PostgreSQL leaves the index marked invalid: drop it
(``DROP INDEX CONCURRENTLY item_long_rank``) and migrate again. SQLite builds it the plain way.
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(
        django.db.models.lookups.GreaterThan(django.db.models.functions.text.Length("rank"), 32)
    ),
    fields=["product", "rank"],
    name="item_long_rank",
)


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def forward(apps, schema_editor) -> None:
    schema_editor.add_index(apps.get_model("backlog", "Item"), INDEX, **_concurrently(schema_editor))


def backward(apps, schema_editor) -> None:
    schema_editor.remove_index(apps.get_model("backlog", "Item"), INDEX, **_concurrently(schema_editor))


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("accounts", "0013_scoring_version_help"),
        ("backlog", "0016_item_product_no_single_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="item", index=INDEX)],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
