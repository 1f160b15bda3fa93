"""The order-statistics index: per-product blocks of the order and their sizes (``OrderBlock``).

Triggers keep each block's size exact whatever writes an item's key (the services, bulk inserts,
the admin, raw SQL): an ordered item leaving a block takes one from it, one arriving adds one
(on PostgreSQL inserts and deletes are counted per statement, grouped by block). A
block that grows past 2,048 items is cut into blocks of 1,024: on PostgreSQL by a deferred
constraint trigger when the transaction commits (row triggers there run at the end of each
statement, so only at commit do the sizes and the keys agree), on SQLite by a trigger at once
(its row triggers run as each row is written). Existing orders are cut into blocks of 1,024.

The numbers here are ``backlog.order_sql.BLOCK_SIZE`` and ``BLOCK_SPLIT_ABOVE``.
"""

import django.db.models.deletion
from django.db import migrations, models

import backlog.fields

POSTGRESQL = r"""
-- An item whose key changes: one from the block it leaves, one to the block it joins. Skipped while
-- a rebalance rewrites keys (it sets onebacklog.order_blocks to 'recut' and recounts its part).
CREATE FUNCTION onebacklog_order_block_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.rank IS NOT NULL THEN
    UPDATE backlog_orderblock SET size = size - 1 WHERE id = (
      SELECT id FROM backlog_orderblock WHERE product_id = OLD.product_id AND low <= OLD.rank
      ORDER BY low DESC LIMIT 1);
  END IF;
  IF NEW.rank IS NOT NULL THEN
    UPDATE backlog_orderblock SET size = size + 1 WHERE id = (
      SELECT id FROM backlog_orderblock WHERE product_id = NEW.product_id AND low <= NEW.rank
      ORDER BY low DESC LIMIT 1);
    IF NOT FOUND THEN  -- the product's first ordered item
      INSERT INTO backlog_orderblock (product_id, low, size) VALUES (NEW.product_id, '', 1)
        ON CONFLICT (product_id, low) DO UPDATE SET size = backlog_orderblock.size + 1;
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- Inserts and deletes are counted per statement, grouped by block: a bulk insert of a million
-- items updates each block once, not one block row a million times in one transaction.
CREATE FUNCTION onebacklog_order_block_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO backlog_orderblock (product_id, low, size)
    SELECT DISTINCT product_id, '', 0 FROM inserted WHERE rank IS NOT NULL
    ON CONFLICT (product_id, low) DO NOTHING;
  UPDATE backlog_orderblock SET size = backlog_orderblock.size + counted.items
  FROM (
    SELECT block.id, COUNT(*) AS items FROM inserted i
    CROSS JOIN LATERAL (SELECT id FROM backlog_orderblock WHERE product_id = i.product_id AND low <= i.rank
                        ORDER BY low DESC LIMIT 1) block
    WHERE i.rank IS NOT NULL GROUP BY block.id
  ) counted
  WHERE backlog_orderblock.id = counted.id;
  RETURN NULL;
END $$;

CREATE FUNCTION onebacklog_order_block_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE backlog_orderblock SET size = backlog_orderblock.size - counted.items
  FROM (
    SELECT block.id, COUNT(*) AS items FROM deleted d
    CROSS JOIN LATERAL (SELECT id FROM backlog_orderblock WHERE product_id = d.product_id AND low <= d.rank
                        ORDER BY low DESC LIMIT 1) block
    WHERE d.rank IS NOT NULL GROUP BY block.id
  ) counted
  WHERE backlog_orderblock.id = counted.id;
  RETURN NULL;
END $$;

-- Cut an oversized block into pieces of 1,024 (the last may be smaller), in one pass over its keys:
-- a block a bulk insert grew to a million is cut as fast as one just past the limit.
CREATE FUNCTION onebacklog_order_block_split() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  block_size integer;
  high text COLLATE "C";
BEGIN
  SELECT size INTO block_size FROM backlog_orderblock WHERE product_id = NEW.product_id AND low = NEW.low;
  IF block_size IS NULL OR block_size <= 2048 THEN
    RETURN NULL;  -- split already (several rows of a statement queue this), or merged away
  END IF;
  SELECT MIN(low) INTO high FROM backlog_orderblock WHERE product_id = NEW.product_id AND low > NEW.low;
  INSERT INTO backlog_orderblock (product_id, low, size)
    SELECT NEW.product_id, rank, LEAST(1024, total - n) FROM (
      SELECT rank, row_number() OVER (ORDER BY rank) - 1 AS n, COUNT(*) OVER () AS total
      FROM backlog_item
      WHERE product_id = NEW.product_id AND rank >= NEW.low AND (high IS NULL OR rank < high)
    ) numbered
    WHERE n > 0 AND n %% 1024 = 0;
  UPDATE backlog_orderblock SET size = 1024 WHERE product_id = NEW.product_id AND low = NEW.low;
  RETURN NULL;
END $$;

CREATE TRIGGER backlog_item_order_block_insert AFTER INSERT ON backlog_item
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION onebacklog_order_block_insert();
CREATE TRIGGER backlog_item_order_block_update AFTER UPDATE OF rank, product_id ON backlog_item
  FOR EACH ROW WHEN ((OLD.rank IS DISTINCT FROM NEW.rank
                      OR (OLD.product_id <> NEW.product_id AND NEW.rank IS NOT NULL))
                     AND current_setting('onebacklog.order_blocks', true) IS DISTINCT FROM 'recut')
  EXECUTE FUNCTION onebacklog_order_block_move();
CREATE TRIGGER backlog_item_order_block_delete AFTER DELETE ON backlog_item
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION onebacklog_order_block_delete();
CREATE CONSTRAINT TRIGGER backlog_orderblock_split AFTER INSERT OR UPDATE OF size ON backlog_orderblock
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.size > 2048)
  EXECUTE FUNCTION onebacklog_order_block_split();
"""

POSTGRESQL_BACKWARD = r"""
DROP TRIGGER backlog_orderblock_split ON backlog_orderblock;
DROP TRIGGER backlog_item_order_block_delete ON backlog_item;
DROP TRIGGER backlog_item_order_block_update ON backlog_item;
DROP TRIGGER backlog_item_order_block_insert ON backlog_item;
DROP FUNCTION onebacklog_order_block_split();
DROP FUNCTION onebacklog_order_block_delete();
DROP FUNCTION onebacklog_order_block_insert();
DROP FUNCTION onebacklog_order_block_move();
"""

# SQLite: one statement per trigger body line; the block lookups are the same as above.
_SQLITE_BLOCK = (
    "(SELECT id FROM backlog_orderblock WHERE product_id = {row}.product_id AND low <= {row}.rank "
    "ORDER BY low DESC LIMIT 1)"
)
SQLITE = [
    f"""CREATE TRIGGER backlog_item_order_block_insert AFTER INSERT ON backlog_item WHEN NEW.rank IS NOT NULL
    BEGIN
      INSERT OR IGNORE INTO backlog_orderblock (product_id, low, size) VALUES (NEW.product_id, '', 0);
      UPDATE backlog_orderblock SET size = size + 1 WHERE id = {_SQLITE_BLOCK.format(row="NEW")};
    END""",
    f"""CREATE TRIGGER backlog_item_order_block_update AFTER UPDATE OF rank, product_id ON backlog_item
    WHEN OLD.rank IS NOT NEW.rank OR (OLD.product_id <> NEW.product_id AND NEW.rank IS NOT NULL)
    BEGIN
      UPDATE backlog_orderblock SET size = size - 1
        WHERE OLD.rank IS NOT NULL AND id = {_SQLITE_BLOCK.format(row="OLD")};
      INSERT OR IGNORE INTO backlog_orderblock (product_id, low, size)
        SELECT NEW.product_id, '', 0 WHERE NEW.rank IS NOT NULL;
      UPDATE backlog_orderblock SET size = size + 1
        WHERE NEW.rank IS NOT NULL AND id = {_SQLITE_BLOCK.format(row="NEW")};
    END""",
    f"""CREATE TRIGGER backlog_item_order_block_delete AFTER DELETE ON backlog_item WHEN OLD.rank IS NOT NULL
    BEGIN
      UPDATE backlog_orderblock SET size = size - 1 WHERE id = {_SQLITE_BLOCK.format(row="OLD")};
    END""",
    """CREATE TRIGGER backlog_orderblock_split AFTER UPDATE OF size ON backlog_orderblock WHEN NEW.size > 2048
    BEGIN
      INSERT INTO backlog_orderblock (product_id, low, size)
        SELECT NEW.product_id, cut.rank, NEW.size - 1024 FROM (SELECT rank FROM backlog_item
          WHERE product_id = NEW.product_id AND rank >= NEW.low ORDER BY rank LIMIT 1 OFFSET 1024) cut;
      UPDATE backlog_orderblock SET size = 1024 WHERE id = NEW.id AND EXISTS (SELECT 1 FROM backlog_item
          WHERE product_id = NEW.product_id AND rank >= NEW.low ORDER BY rank LIMIT 1 OFFSET 1024);
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER backlog_orderblock_split",
    "DROP TRIGGER backlog_item_order_block_delete",
    "DROP TRIGGER backlog_item_order_block_update",
    "DROP TRIGGER backlog_item_order_block_insert",
]

# Every product's order cut into blocks of 1,024 (the first starting at '').
FILL = """
INSERT INTO backlog_orderblock (product_id, low, size)
SELECT product_id, CASE WHEN n = 0 THEN '' ELSE rank END, CASE WHEN total - n < 1024 THEN total - n ELSE 1024 END
FROM (
  SELECT product_id, rank, row_number() OVER (PARTITION BY product_id ORDER BY rank) - 1 AS n,
         COUNT(*) OVER (PARTITION BY product_id) AS total
  FROM backlog_item WHERE rank IS NOT NULL
) numbered
WHERE n %% 1024 = 0
"""


def forward(apps, schema_editor) -> None:
    schema_editor.execute(FILL)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)
    else:
        for statement in SQLITE:
            schema_editor.execute(statement)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD)
    else:
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_idempotency_keys"),
        ("backlog", "0010_import_file_in_pieces_skipped_count"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrderBlock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("low", backlog.fields.RankKeyField(blank=True, max_length=255)),
                ("size", models.IntegerField(default=0)),
                (
                    "product",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.product",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("product", "low"), name="order_block_low_unique")],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
