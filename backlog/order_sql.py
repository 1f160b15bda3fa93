"""The ordering engine's hot-path statements, in plain SQL.

A move is a handful of tiny index look-ups and one single-row write. Building them through the
ORM cost about twice as much as running them (bench/ordering.py measured 3.2 ms against 1.1 ms
per move), so these few are written out. PostgreSQL and SQLite run the same text.
"""

from collections.abc import Sequence

from django.db import connection

from backlog import ranking
from backlog.models import Item

TABLE = Item._meta.db_table


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


def items_with_neighbours(product_id: int, item_ids: Sequence[int]) -> list[tuple]:
    """Return ``(id, number, rank, status, previous id, next id, position)`` of the given items
    of a product, in one statement however many.

    The neighbours are the items right before and after each one in the current order, and the
    position is 1-based (None at either end, and for items that are not ordered). One item's
    position is counted (as far as it stands); several items' are numbered in one pass.
    """
    if len(item_ids) == 1:
        position, join, join_params = (
            f"CASE WHEN i.rank IS NULL THEN NULL ELSE (SELECT COUNT(*) FROM {TABLE} c "
            f"WHERE c.product_id = i.product_id AND c.rank < i.rank) + 1 END",
            "",
            [],
        )
    else:
        position, join, join_params = (
            "o.position",
            f"LEFT JOIN (SELECT id, row_number() OVER (ORDER BY rank) AS position FROM {TABLE} "
            f"WHERE product_id = %s AND rank IS NOT NULL) o ON o.id = i.id ",
            [product_id],
        )
    return _rows(
        f"SELECT i.id, i.number, i.rank, i.status, "
        f"(SELECT p.id FROM {TABLE} p WHERE p.product_id = i.product_id AND p.rank < i.rank "
        f"ORDER BY p.rank DESC LIMIT 1), "
        f"(SELECT n.id FROM {TABLE} n WHERE n.product_id = i.product_id AND n.rank > i.rank "
        f"ORDER BY n.rank LIMIT 1), {position} "
        f"FROM {TABLE} i {join}WHERE i.product_id = %s AND i.id IN ({_placeholders(item_ids)})",
        [*join_params, product_id, *item_ids],
    )


def last_with_count(product_id: int, *, exclude: Sequence[int] = ()) -> tuple[int, str, int] | None:
    """Return ``(id, rank, how many)`` of the last ordered item of a product, less ``exclude``
    (the count being its position): one statement."""
    conditions, params = "product_id = %s AND rank IS NOT NULL", [product_id]
    if exclude:
        conditions += f" AND id NOT IN ({_placeholders(exclude)})"
        params.extend(exclude)
    rows = _rows(
        f"SELECT id, rank, (SELECT COUNT(*) FROM {TABLE} WHERE {conditions}) FROM {TABLE} WHERE {conditions} "
        "ORDER BY rank DESC LIMIT 1",
        [*params, *params],
    )
    return rows[0] if rows else None


def position_of(product_id: int, rank: str) -> int:
    """Return the 1-based position a key has in a product's order (the items before it, plus one)."""
    [(before,)] = _rows(f"SELECT COUNT(*) FROM {TABLE} WHERE product_id = %s AND rank < %s", [product_id, rank])
    return before + 1


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


# Rows per statement where keys are written with CASE (3 parameters a row, under SQLite's limit).
CASE_BATCH = 1000


def write_ranks(ranks: dict[int, str], current: dict[int, str]) -> None:
    """Write items' new keys (by id; ``current`` holds their keys now): the rows a move writes.

    One statement (PostgreSQL; elsewhere one per thousand rows) meets its rows in any order and
    the unique index is checked row by row, so when a new key equals another written item's
    current key, the items are parked out of the way first (one more statement).
    """
    changed = {pk: rank for pk, rank in ranks.items() if rank != current[pk]}
    if not changed:
        return
    if set(changed.values()) & {current[pk] for pk in changed}:
        park(list(changed))
    _set_ranks(changed)


def _set_ranks(ranks: dict[int, str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {TABLE} i SET rank = s.rank FROM unnest(%s::bigint[], %s::text[]) AS s(id, rank) "
                "WHERE i.id = s.id",
                [list(ranks), list(ranks.values())],
            )
            return
        rows = list(ranks.items())
        for start in range(0, len(rows), CASE_BATCH):
            batch = rows[start : start + CASE_BATCH]
            cases = " ".join("WHEN %s THEN %s" for _ in batch)
            cursor.execute(
                f"UPDATE {TABLE} SET rank = CASE id {cases} END WHERE id IN ({_placeholders(batch)})",
                [*(value for row in batch for value in row), *(pk for pk, _ in batch)],
            )


def park(item_ids: Sequence[int]) -> None:
    """Move the items' keys out of every other key's way (prefixed, they sort before all keys)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET rank = %s || rank WHERE id IN ({_placeholders(item_ids)})",
            [ranking.REBALANCE_PREFIX, *item_ids],
        )
