"""A rebalance of a product held elsewhere, for the tests of what waits for it or refuses."""

import contextlib

from django.db import connection

from backlog import order_sql


@contextlib.contextmanager
def another_rebalance_running(product):
    """Hold the product's rebalance claim as another process would: on PostgreSQL from a
    connection of its own (an advisory lock is the session's), on SQLite through a lock file
    opened apart (an flock is the open file's)."""
    if connection.vendor == "postgresql":
        import psycopg2

        other = psycopg2.connect(**connection.get_connection_params())
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [order_sql.REBALANCE_LOCK, product.pk])
                [(taken,)] = cursor.fetchall()
            assert taken, "the test's own transaction holds the claim (it rebalanced earlier in the test)"
            yield
            with other.cursor() as cursor:  # given back now: a closed connection's ends a moment later
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [order_sql.REBALANCE_LOCK, product.pk])
        finally:
            other.close()
    else:
        with order_sql.rebalance_claimed(product.pk) as claimed:
            assert claimed
            yield
