"""How many rows a piece of code reads, on PostgreSQL: for tests that a request path's reads do not
grow with the backlog.

PostgreSQL counts, for the current transaction, the rows each table's sequential scans returned,
the rows its index scans fetched and the entries each of its indexes returned
(``pg_stat_get_xact_tuples_returned`` / ``_fetched``); the difference across a block of code is
what that code read. Index entries and rows are both counted, so an index-only count of a million
entries shows as a million.

Inside the block sequential scans are discouraged (``enable_seqscan`` off, for the transaction's
rest of the block only): a test's backlog of a few hundred rows is small enough for the planner to
scan it whole where a real backlog would use an index, which would count a cheap plan choice as a
read of the whole product. A statement no index serves is still planned as a scan, and counted.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_READ = """
SELECT COALESCE(SUM(pg_stat_get_xact_tuples_returned(c.oid) + pg_stat_get_xact_tuples_fetched(c.oid)), 0)
FROM pg_class c
WHERE c.oid = ANY(%(tables)s::regclass[])
   OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(%(tables)s::regclass[]))
"""


def _read(tables: list[str]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_READ, {"tables": tables})
        return int(cursor.fetchone()[0])


class Reads:
    rows: int = 0


@contextmanager
def rows_read(*tables: str) -> Iterator[Reads]:
    """Count the rows and index entries of ``tables`` read inside the block (PostgreSQL only)."""
    reads = Reads()
    names = list(tables)
    before = _read(names)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
    try:
        yield reads
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_seqscan', 'on', true)")
    # The counting query itself reads none of these tables.
    reads.rows = _read(names) - before
