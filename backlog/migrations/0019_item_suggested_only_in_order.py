"""An item out of the order holds no suggested position; the index that found those that did goes.

The suggestion refresh rewrites ``suggested_position`` on every item whose place by score
changed: after a burst of moves, most of a large product (ties follow the current order). The
partial index ``item_left_with_suggestion`` named that column in its condition, so none of those
writes could be HOT: each wrote a new entry into every index of the item table, and left a dead
one behind in each. An item leaving the order now clears its suggested position in the same
write, and the constraint ``item_suggested_only_in_order`` keeps it so; the refresh no longer
looks for items left holding one, and ``suggested_position`` is in no index.

On PostgreSQL nothing here stops writes to the item table for longer than a moment (the
migration runs outside a transaction, like 0017): the constraint is added ``NOT VALID`` (new
writes are checked from then on), the items out of the order lose their stored suggested
position (the refresh cleared them anyway), the constraint is validated (a read of the table
that lets writes go on), and the index is dropped ``CONCURRENTLY``.

SQLite adds a constraint by copying the table, which drops what the migrations made on it in raw
SQL (the order blocks' triggers of 0011, the service queue's index of ``service`` 0003) and trips
on the block table's trigger that reads it: those are dropped first and made again after, all in
one transaction.
"""

from django.db import migrations, models, transaction

INDEX = models.Index(
    condition=models.Q(rank__isnull=True, suggested_position__isnull=False),
    fields=["product"],
    name="item_left_with_suggestion",
)
CONSTRAINT = models.CheckConstraint(
    condition=models.Q(("rank__isnull", False), ("suggested_position__isnull", True), _connector="OR"),
    name="item_suggested_only_in_order",
)
CLEAR = "UPDATE backlog_item SET suggested_position = NULL WHERE rank IS NULL AND suggested_position IS NOT NULL"


class ElsewhereThanPostgreSQL(migrations.SeparateDatabaseAndState):
    """``operations`` run as they are except on PostgreSQL (which ``postgresql_forward`` and
    ``postgresql_backward`` alter in place instead), with SQLite's copy of the item table made
    safe: the raw-SQL triggers reading the table and its raw-SQL indexes are dropped before and
    made again after, all in one transaction. The state changes the same way everywhere."""

    def __init__(self, operations):
        super().__init__(database_operations=operations, state_operations=operations)

    def deconstruct(self):
        return self.__class__.__name__, [self.state_operations], {}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        forwards = super().database_forwards
        self._copying(
            schema_editor,
            lambda: forwards(app_label, schema_editor, from_state, to_state),
            self._managed(from_state, to_state),
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        backwards = super().database_backwards
        self._copying(
            schema_editor,
            lambda: backwards(app_label, schema_editor, from_state, to_state),
            self._managed(from_state, to_state),
        )

    @staticmethod
    def _managed(*states) -> set[str]:
        """The item table's indexes the model states name (Django makes or drops them itself)."""
        return {index.name for state in states for index in state.models["backlog", "item"].options["indexes"]}

    @staticmethod
    def _copying(schema_editor, alter, managed: set[str]) -> None:
        connection = schema_editor.connection
        if connection.vendor == "postgresql":
            return
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
                "(type = 'trigger' AND sql LIKE '%backlog_item%') OR (type = 'index' AND tbl_name = 'backlog_item'))"
            )
            made = cursor.fetchall()
            for kind, name, _ in made:
                if kind == "trigger":
                    cursor.execute(f'DROP TRIGGER "{name}"')
            alter()
            cursor.execute("SELECT name FROM sqlite_master")
            present = {name for (name,) in cursor.fetchall()}
            for _, name, sql in made:
                if name not in present and name not in managed:
                    cursor.execute(sql)

    def describe(self):
        return "Elsewhere than PostgreSQL: " + "; ".join(operation.describe() for operation in self.state_operations)


def postgresql_forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    Item = apps.get_model("backlog", "Item")
    table = schema_editor.quote_name(Item._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} ADD {CONSTRAINT.constraint_sql(Item, schema_editor)} NOT VALID")
    schema_editor.execute(CLEAR)  # after the constraint: no write adds one meanwhile
    schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {schema_editor.quote_name(CONSTRAINT.name)}")
    schema_editor.remove_index(Item, INDEX, concurrently=True)


def postgresql_backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    Item = apps.get_model("backlog", "Item")
    schema_editor.add_index(Item, INDEX, concurrently=True)
    schema_editor.remove_constraint(Item, CONSTRAINT)


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction; nor should the validation

    dependencies = [("backlog", "0018_item_rank_length_statistics")]

    operations = [
        migrations.RunPython(postgresql_forward, postgresql_backward),
        ElsewhereThanPostgreSQL(
            [
                migrations.RunSQL(CLEAR, migrations.RunSQL.noop),
                migrations.RemoveIndex(model_name="item", name="item_left_with_suggestion"),
                migrations.AlterField(
                    model_name="item",
                    name="suggested_position",
                    field=models.PositiveIntegerField(
                        blank=True,
                        editable=False,
                        help_text=(
                            "Where the scores put the item in the order (kept fresh by a background job; none out of it)."
                        ),
                        null=True,
                    ),
                ),
                migrations.AddConstraint(model_name="item", constraint=CONSTRAINT),
            ]
        ),
    ]
