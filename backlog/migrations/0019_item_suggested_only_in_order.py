"""An item out of the order holds no suggested position; the index that found those that did goes.

The suggestion refresh rewrites ``suggested_position`` on every item whose place by score
changed: after a burst of moves, most of a large product (ties follow the current order). The
partial index ``item_left_with_suggestion`` named that column in its condition, so none of those
writes could be HOT: each wrote a new entry into every index of the item table (20), and left a
dead one in the rank index that the order's look-ups walked until a vacuum. An item leaving the
order now clears its suggested position in the same write, and the constraint
``item_suggested_only_in_order`` keeps it so; the refresh no longer looks for items left holding
one, and ``suggested_position`` is in no index.

Existing rows out of the order lose their stored suggested position first (the refresh cleared
them anyway). Adding the constraint reads the table once, under its lock (seconds at 1,000,000
items). SQLite adds a constraint by copying the table, which drops the table's triggers and trips
on the block table's trigger that reads it: the order blocks' triggers of migration 0011 are
dropped before and made again after (PostgreSQL alters the table in place).
"""

import importlib

from django.db import migrations, models

BLOCKS = importlib.import_module("backlog.migrations.0011_order_blocks")


def sqlite_triggers_dropped(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in BLOCKS.SQLITE_BACKWARD:
            schema_editor.execute(statement)


def sqlite_triggers_made(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in BLOCKS.SQLITE:
            schema_editor.execute(statement)


def clear_out_of_order(apps, schema_editor) -> None:
    Item = apps.get_model("backlog", "Item")
    Item.objects.filter(rank__isnull=True, suggested_position__isnull=False).update(suggested_position=None)


class Migration(migrations.Migration):
    dependencies = [("backlog", "0018_item_rank_length_statistics")]

    operations = [
        migrations.RunPython(clear_out_of_order, migrations.RunPython.noop),
        migrations.RunPython(sqlite_triggers_dropped, sqlite_triggers_made),
        migrations.RemoveIndex(model_name="item", name="item_left_with_suggestion"),
        migrations.AlterField(
            model_name="item",
            name="suggested_position",
            field=models.PositiveIntegerField(
                blank=True,
                editable=False,
                help_text="Where the scores put the item in the order (kept fresh by a background job; none out of it).",
                null=True,
            ),
        ),
        migrations.AddConstraint(
            model_name="item",
            constraint=models.CheckConstraint(
                condition=models.Q(("rank__isnull", False), ("suggested_position__isnull", True), _connector="OR"),
                name="item_suggested_only_in_order",
            ),
        ),
        migrations.RunPython(sqlite_triggers_made, sqlite_triggers_dropped),
    ]
