"""Full-text search documents on PostgreSQL: a tsvector per item and per comment, with GIN indexes.

The columns are not model fields: PostgreSQL's triggers keep them (whatever writes the row: the
services, bulk inserts, the admin, a split's one INSERT), in the product's ``search_language``,
and only ``search.selectors`` reads them. On SQLite nothing is added; search falls back to
substring matching there.
"""

from django.db import migrations

FORWARD = r"""
ALTER TABLE backlog_item ADD COLUMN search_vector tsvector;
ALTER TABLE refinement_comment ADD COLUMN search_vector tsvector;

-- The title weighs most (A), then the description and acceptance criteria (B); comments are C.
CREATE FUNCTION onebacklog_item_document(config regconfig, title text, description text, criteria text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector(config, coalesce(title, '')), 'A')
      || setweight(to_tsvector(config, coalesce(description, '')), 'B')
      || setweight(to_tsvector(config, coalesce(criteria, '')), 'B')
$$;

CREATE FUNCTION onebacklog_comment_document(config regconfig, body text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector(config, coalesce(body, '')), 'C')
$$;

CREATE FUNCTION onebacklog_item_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := onebacklog_item_document(
    (SELECT search_language FROM accounts_product WHERE id = NEW.product_id)::regconfig,
    NEW.title, NEW.description, NEW.acceptance_criteria);
  RETURN NEW;
END $$;

CREATE FUNCTION onebacklog_comment_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := onebacklog_comment_document(
    (SELECT p.search_language FROM backlog_item i JOIN accounts_product p ON p.id = i.product_id
      WHERE i.id = NEW.item_id)::regconfig,
    NEW.body);
  RETURN NEW;
END $$;

-- A product that changes its language re-indexes its items and comments in the same transaction.
CREATE FUNCTION onebacklog_product_search_language() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE backlog_item SET search_vector = onebacklog_item_document(
      NEW.search_language::regconfig, title, description, acceptance_criteria)
    WHERE product_id = NEW.id;
  UPDATE refinement_comment c SET search_vector = onebacklog_comment_document(NEW.search_language::regconfig, c.body)
    FROM backlog_item i WHERE i.id = c.item_id AND i.product_id = NEW.id;
  RETURN NULL;
END $$;

CREATE TRIGGER backlog_item_search_insert BEFORE INSERT ON backlog_item
  FOR EACH ROW EXECUTE FUNCTION onebacklog_item_search_vector();
CREATE TRIGGER backlog_item_search_update BEFORE UPDATE OF title, description, acceptance_criteria, product_id
  ON backlog_item FOR EACH ROW
  WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description
        OR OLD.acceptance_criteria IS DISTINCT FROM NEW.acceptance_criteria
        OR OLD.product_id IS DISTINCT FROM NEW.product_id)
  EXECUTE FUNCTION onebacklog_item_search_vector();
CREATE TRIGGER refinement_comment_search_insert BEFORE INSERT ON refinement_comment
  FOR EACH ROW EXECUTE FUNCTION onebacklog_comment_search_vector();
CREATE TRIGGER refinement_comment_search_update BEFORE UPDATE OF body, item_id ON refinement_comment
  FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body OR OLD.item_id IS DISTINCT FROM NEW.item_id)
  EXECUTE FUNCTION onebacklog_comment_search_vector();
CREATE TRIGGER accounts_product_search_language AFTER UPDATE OF search_language ON accounts_product
  FOR EACH ROW WHEN (OLD.search_language IS DISTINCT FROM NEW.search_language)
  EXECUTE FUNCTION onebacklog_product_search_language();

UPDATE backlog_item i SET search_vector = onebacklog_item_document(
    p.search_language::regconfig, i.title, i.description, i.acceptance_criteria)
  FROM accounts_product p WHERE p.id = i.product_id;
UPDATE refinement_comment c SET search_vector = onebacklog_comment_document(p.search_language::regconfig, c.body)
  FROM backlog_item i JOIN accounts_product p ON p.id = i.product_id WHERE i.id = c.item_id;

CREATE INDEX backlog_item_search ON backlog_item USING gin (search_vector);
CREATE INDEX refinement_comment_search ON refinement_comment USING gin (search_vector);
"""

BACKWARD = r"""
DROP TRIGGER accounts_product_search_language ON accounts_product;
DROP TRIGGER refinement_comment_search_update ON refinement_comment;
DROP TRIGGER refinement_comment_search_insert ON refinement_comment;
DROP TRIGGER backlog_item_search_update ON backlog_item;
DROP TRIGGER backlog_item_search_insert ON backlog_item;
DROP FUNCTION onebacklog_product_search_language();
DROP FUNCTION onebacklog_comment_search_vector();
DROP FUNCTION onebacklog_item_search_vector();
DROP FUNCTION onebacklog_comment_document(regconfig, text);
DROP FUNCTION onebacklog_item_document(regconfig, text, text, text);
ALTER TABLE refinement_comment DROP COLUMN search_vector;
ALTER TABLE backlog_item DROP COLUMN search_vector;
"""


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_product_search_language"),
        ("backlog", "0005_stale_suggestions"),
        ("refinement", "0002_questions_comments_debt_snapshots"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
