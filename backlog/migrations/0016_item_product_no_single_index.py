import django.db.models.deletion
from django.db import migrations, models

# The single-column index Django gave the foreign key: every look-up by product uses an index that
# starts with it (item_product_id and the others). Dropped by name, the same on both databases: an
# AlterField would also drop and re-add the foreign key, which checks every row under a lock.
INDEX = "backlog_item_product_id_e26c2294"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_scoring_version_help"),
        ("backlog", "0015_order_block_move_once"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="item",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="accounts.product",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f"CREATE INDEX {INDEX} ON backlog_item (product_id)",
                ),
            ],
        ),
    ]
