"""PostgreSQL statistics on the length of the rank keys.

The hourly job finds keys longer than ``LONG_KEY`` with ``LENGTH(rank) > 32``, read from the
partial index that holds only those (``item_long_rank``, migration 0017). PostgreSQL keeps no
statistics on an expression that is not indexed, so it guessed a third of the table for that
condition (366,688 rows of 1,100,000, a cost of 180,000 against 6 for the index's one probe): the
partial index won only because it was small, and a plan with no better guess could pick another
(as a review saw on an index bloated by a past mass of long keys). With statistics on the
expression, ANALYZE measures how many keys are that long (a handful: the estimate becomes 1 row).
SQLite has no such statistics and plans these look-ups from the index anyway.
"""

from django.db import migrations

CREATE = "CREATE STATISTICS IF NOT EXISTS item_rank_length ON (LENGTH(rank)) FROM backlog_item"
DROP = "DROP STATISTICS IF EXISTS item_rank_length"


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        # The statistics are empty until the table is next analysed (which autovacuum may not do
        # for a long time on a big, steady table): now, then. ANALYZE does not stop writes.
        schema_editor.execute("ANALYZE backlog_item")


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("backlog", "0017_item_long_rank")]

    operations = [migrations.RunPython(forward, backward)]
