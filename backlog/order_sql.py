"""The ordering engine's hot-path statements, in plain SQL.

A move is a handful of tiny index look-ups and one single-row write. Building them through the
ORM cost about twice as much as running them (bench/ordering.py measured 3.2 ms against 1.1 ms
per move), so these few are written out. PostgreSQL and SQLite run the same text.
"""

from collections.abc import Sequence

from django.db import connection

from backlog.models import Item

TABLE = Item._meta.db_table


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


def items_with_neighbours(product_id: int, item_ids: Sequence[int]) -> list[tuple]:
    """Return ``(id, number, rank, status, previous id, next id)`` of the given items of a product.

    The neighbours are the items right before and after each one in the current order (None at
    either end, and for items that are not ordered).
    """
    return _rows(
        f"SELECT i.id, i.number, i.rank, i.status, "
        f"(SELECT p.id FROM {TABLE} p WHERE p.product_id = i.product_id AND p.rank < i.rank "
        f"ORDER BY p.rank DESC LIMIT 1), "
        f"(SELECT n.id FROM {TABLE} n WHERE n.product_id = i.product_id AND n.rank > i.rank "
        f"ORDER BY n.rank LIMIT 1) "
        f"FROM {TABLE} i WHERE i.product_id = %s AND i.id IN ({_placeholders(item_ids)})",
        [product_id, *item_ids],
    )


def ordered_slice(
    product_id: int,
    *,
    exclude: Sequence[int] = (),
    below: str | None = None,
    above: str | None = None,
    descending: bool = False,
    offset: int = 0,
    limit: int = 1,
    item_id: int | None = None,
) -> list[tuple[int, str]]:
    """Return ``(id, rank)`` of ordered items of a product, by rank, less ``exclude``.

    ``below``/``above`` keep ranks strictly under/over a key; ``item_id`` keeps one item.
    """
    conditions, params = ["product_id = %s", "rank IS NOT NULL"], [product_id]
    if exclude:
        conditions.append(f"id NOT IN ({_placeholders(exclude)})")
        params.extend(exclude)
    if below is not None:
        conditions.append("rank < %s")
        params.append(below)
    if above is not None:
        conditions.append("rank > %s")
        params.append(above)
    if item_id is not None:
        conditions.append("id = %s")
        params.append(item_id)
    direction = "DESC" if descending else "ASC"
    return _rows(
        f"SELECT id, rank FROM {TABLE} WHERE {' AND '.join(conditions)} ORDER BY rank {direction} LIMIT %s OFFSET %s",
        [*params, limit, offset],
    )


def set_rank(item_id: int, rank: str | None) -> None:
    """Write one item's key: the one row a move writes."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET rank = %s WHERE id = %s", [rank, item_id])
