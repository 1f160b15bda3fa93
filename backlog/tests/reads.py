"""What a request reads: its statements, and the item rows PostgreSQL's own counters say it read.

For the tests that hold request paths to reads independent of the backlog's size (issue 17):
run the same request against a small and a larger product and compare. The rows come from
PostgreSQL's counters of this transaction (``pg_stat_get_xact_tuples_returned``: the table's
sequential-scan rows and every index's entries read), so an index scan over every item counts as much as a table
scan. Off PostgreSQL only the statements are counted (``rows`` is None).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection

from backlog.models import Item

ITEMS = Item._meta.db_table


@dataclass
class Reads:
    statements: list[str] = field(default_factory=list)
    rows: int | None = None  # item rows and index entries read; None off PostgreSQL
    # (rows read, statement): what each read by the time it returned (for messages)
    by_statement: list[tuple[int, str]] = field(default_factory=list)

    @property
    def queries(self) -> int:
        return len(self.statements)

    def heaviest(self, count: int = 3) -> list[tuple[int, str]]:
        """The statements that read the most rows (for a failing assertion's message)."""
        return sorted(self.by_statement, key=lambda pair: -pair[0])[:count]


def _rows_read(table: str) -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            # A table's "tuples returned" are its sequential scans' rows, an index's its entries read.
            "SELECT pg_stat_get_xact_tuples_returned(%s::regclass) + (SELECT COALESCE("
            "SUM(pg_stat_get_xact_tuples_returned(indexrelid)), 0) FROM pg_index WHERE indrelid = %s::regclass)",
            [table, table],
        )
        return int(cursor.fetchone()[0])


def plan_as_at_scale() -> None:
    """Make PostgreSQL plan this transaction's statements as it would over a large backlog.

    A test's tables are tiny, and over a few hundred rows a sequential scan is the cheapest plan
    whatever the statement: the rows read would grow with the table for any query. With fresh
    statistics and sequential scans priced out, the planner picks the index plans it picks at
    scale, and the rows read show whether a statement is bounded by its index range or LIMIT.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ITEMS}")
            cursor.execute("SET LOCAL enable_seqscan = off")


@contextmanager
def reads(table: str = ITEMS) -> Iterator[Reads]:
    """Count the statements run inside the block and the rows of ``table`` each read."""
    result = Reads()
    measuring = []

    def measure(execute, sql, params, many, context):
        if measuring:  # the counter's own statement
            return execute(sql, params, many, context)
        measuring.append(sql)
        try:
            before = _rows_read(table)
            returned = execute(sql, params, many, context)
            after = _rows_read(table)
        finally:
            measuring.pop()
        result.statements.append(sql)
        if after is not None:
            result.by_statement.append((after - before, sql))
        return returned

    # The total is taken around the block: a server-side cursor (``.iterator()``) reads rows as
    # they are fetched, after its statement returned.
    start = _rows_read(table)
    with connection.execute_wrapper(measure):
        yield result
    end = _rows_read(table)
    result.rows = None if start is None else end - start


def product_of(size: int, item=lambda index: {}):
    """A product and its owner, with ``size`` ordered items made in bulk (numbers 1 to ``size``,
    keys in that order); ``item(index)`` gives the fields of the index-th (0-based) beyond a
    title and kind story."""
    from accounts.models import Membership, Product
    from accounts.tests.factories import MembershipFactory
    from backlog import ranking

    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    width = ranking.rebalance_width(size)
    Item.objects.bulk_create(
        [
            Item(
                product=product,
                number=index + 1,
                title=f"Item {index + 1}",
                status=Item.Status.OPEN,
                rank=ranking.rebalanced_key(index, width),
                created_by=owner,
                **{"kind": Item.Kind.STORY, **item(index)},
            )
            for index in range(size)
        ]
    )
    Product.objects.filter(pk=product.pk).update(last_item_number=size)
    product.refresh_from_db()
    return product, owner
