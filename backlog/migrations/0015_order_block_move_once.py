"""An item's key changing within one order block no longer writes that block (PostgreSQL).

The trigger of 0011 took one from the block an item left and added one to the block it joined,
two updates of the block table, even when both were the same block (its size unchanged: most
moves by hand go a few places up or down). It now finds both blocks first and writes nothing when
they are the same, and one update of both rows when they differ. SQLite's triggers stay as they
were (no round trips there).
"""

from django.db import migrations

MOVE_ONCE = r"""
CREATE OR REPLACE FUNCTION onebacklog_order_block_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  left_block bigint;
  joined_block bigint;
BEGIN
  IF OLD.rank IS NOT NULL THEN
    SELECT id INTO left_block FROM backlog_orderblock WHERE product_id = OLD.product_id AND low <= OLD.rank
      ORDER BY low DESC LIMIT 1;
  END IF;
  IF NEW.rank IS NOT NULL THEN
    SELECT id INTO joined_block FROM backlog_orderblock WHERE product_id = NEW.product_id AND low <= NEW.rank
      ORDER BY low DESC LIMIT 1;
    IF joined_block IS NULL THEN  -- the product's first ordered item
      INSERT INTO backlog_orderblock (product_id, low, size) VALUES (NEW.product_id, '', 1)
        ON CONFLICT (product_id, low) DO UPDATE SET size = backlog_orderblock.size + 1;
    END IF;
  END IF;
  IF left_block IS NOT DISTINCT FROM joined_block THEN
    RETURN NULL;  -- within one block: its size stays
  END IF;
  -- One from the block left, one to the block joined (a NULL id matches no row).
  UPDATE backlog_orderblock SET size = size + CASE WHEN id = joined_block THEN 1 ELSE -1 END
    WHERE id IN (left_block, joined_block);
  RETURN NULL;
END $$;
"""

# 0011's function, for going back.
MOVE_TWICE = r"""
CREATE OR REPLACE FUNCTION onebacklog_order_block_move() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(MOVE_ONCE)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(MOVE_TWICE)


class Migration(migrations.Migration):
    dependencies = [("backlog", "0014_item_theme_order")]

    operations = [migrations.RunPython(forward, backward)]
