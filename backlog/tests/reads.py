"""What a request reads: its statements, and the item rows it read (``config.tests.reads``).

For the tests that hold request paths to reads independent of the backlog's size (issue 17):
run the same request against a small and a larger product and compare. Off PostgreSQL only the
statements are counted (``rows`` is None).
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.db import connection

from backlog.models import Item
from config.tests.reads import _read, rows_read

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


def _counting(table: str):
    return rows_read(table) if connection.vendor == "postgresql" else nullcontext()


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
    """Count the statements run inside the block and the rows of ``table`` they read."""
    result = Reads()
    measuring = []

    def measure(execute, sql, params, many, context):
        if measuring:  # the counter's own statement
            return execute(sql, params, many, context)
        measuring.append(sql)
        postgres = connection.vendor == "postgresql"
        try:
            before = _read([table]) if postgres else None
            returned = execute(sql, params, many, context)
            if postgres:
                result.by_statement.append((_read([table]) - before, sql))
        finally:
            measuring.pop()
        result.statements.append(sql)
        return returned

    # The total is taken around the block: a server-side cursor (``.iterator()``) reads rows as
    # they are fetched, after its statement returned.
    with _counting(table) as total, connection.execute_wrapper(measure):
        yield result
    result.rows = None if total is None else total.rows


def product_of(size: int, item=lambda index: {}, *, block: int = 16):
    """A product and its owner, with ``size`` ordered items made in bulk (numbers 1 to ``size``,
    keys in that order); ``item(index)`` gives the fields of the index-th (0-based) beyond a
    title and kind story.

    The order's position blocks are cut at ``block`` items: a position is counted within its
    block (at most ``order_sql.BLOCK_SPLIT_ABOVE`` items in production), so with blocks smaller
    than the test's sizes a position costs the same in the small product and the large one.
    """
    from accounts.models import Membership, Product
    from accounts.tests.factories import MembershipFactory
    from backlog import order_sql, ranking

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
    order_sql.blocks_recut(product.pk, size=block)
    product.refresh_from_db()
    return product, owner
