"""The ordering engine's hot-path statements, in plain SQL.

A move is a handful of tiny index look-ups and one single-row write. Building them through the
ORM cost about twice as much as running them (bench/ordering.py measured 3.2 ms against 1.1 ms
per move), so these few are written out. PostgreSQL and SQLite run the same text.

Positions come from the order-statistics blocks (``OrderBlock``): an item's position is the sizes
of the blocks before its own, summed, plus the items before it within its block (at most
``BLOCK_SPLIT_ABOVE``); the item at a position is found the same way round. Neither counts the
order up to the item, so both cost the same at the top and a million items down.
"""

import contextlib
import fcntl
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import Error, connection

from backlog import ranking
from backlog.models import Item, OrderBlock

TABLE = Item._meta.db_table
BLOCKS = OrderBlock._meta.db_table
# A block is cut in pieces of BLOCK_SIZE once it holds more than BLOCK_SPLIT_ABOVE items (the
# triggers of backlog/migrations/0011_order_blocks.py, which repeat these numbers).
BLOCK_SIZE = 1024
BLOCK_SPLIT_ABOVE = 2048


def _block_holding_sql(product: str, key: str, columns: str) -> str:
    """A query for ``columns`` of the block of product ``product`` that holds the key ``key`` (both
    SQL expressions): the last block starting at or before it, one probe of the blocks' index. The
    triggers of migrations 0011 and 0015 find a key's block the same way."""
    return f"SELECT {columns} FROM {BLOCKS} WHERE product_id = {product} AND low <= {key} ORDER BY low DESC LIMIT 1"


def _in_block_sql(product: str, low: str, key: str) -> str:
    """A query counting the keys of product ``product`` from a block's ``low`` up to ``key`` (SQL
    expressions): the keys before ``key`` in its block, when ``low`` starts the block holding it."""
    return f"SELECT COUNT(*) FROM {TABLE} c WHERE c.product_id = {product} AND c.rank >= {low} AND c.rank < {key}"


def position_sql(product: str, key: str) -> str:
    """An SQL expression for the 1-based position of the key ``key`` in the order of product
    ``product`` (both SQL expressions, e.g. ``"i.product_id", "i.rank"`` for a correlated one):
    the sizes of the blocks before the key's block, summed, plus the keys before it in its block."""
    return (
        f"COALESCE((SELECT COALESCE((SELECT SUM(o.size) FROM {BLOCKS} o "
        f"WHERE o.product_id = b.product_id AND o.low < b.low), 0) "
        f"+ ({_in_block_sql('b.product_id', 'b.low', key)}) "
        f"FROM ({_block_holding_sql(product, key, 'product_id, low')}) b), 0) + 1"
    )


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


def _items_sql(columns: str, item_ids: Sequence[int]) -> str:
    """The SELECT of ``items_with_neighbours`` (``columns`` first, then the neighbours and the
    position); its parameters are the product's id and ``item_ids``."""
    return (
        f"SELECT {columns}, "
        f"(SELECT p.id FROM {TABLE} p WHERE p.product_id = i.product_id AND p.rank < i.rank "
        f"ORDER BY p.rank DESC LIMIT 1), "
        f"(SELECT n.id FROM {TABLE} n WHERE n.product_id = i.product_id AND n.rank > i.rank "
        f"ORDER BY n.rank LIMIT 1), "
        f"CASE WHEN i.rank IS NULL THEN NULL ELSE {position_sql('i.product_id', 'i.rank')} END "
        f"FROM {TABLE} i WHERE i.product_id = %s AND i.id IN ({_placeholders(item_ids)})"
    )


def items_with_neighbours(product_id: int, item_ids: Sequence[int]) -> list[tuple]:
    """Return ``(id, number, rank, status, previous id, next id, position)`` of the given items
    of a product, in one statement however many.

    The neighbours are the items right before and after each one in the current order, and the
    position is 1-based (None at either end, and for items that are not ordered), read from the
    order's blocks (``position_sql``).
    """
    return _rows(_items_sql("i.id, i.number, i.rank, i.status", item_ids), [product_id, *item_ids])


# The block holding the 0-based offset (parameters: the product, the offset), and the items before it.
_BLOCK_AT_OFFSET = (
    f"SELECT low, before FROM (SELECT low, size, SUM(size) OVER (ORDER BY low) - size AS before "
    f"FROM {BLOCKS} WHERE product_id = %s) sized WHERE before + size > %s ORDER BY low LIMIT 1"
)
# The rows from the offset on, after ``WITH b AS (_BLOCK_AT_OFFSET)`` (parameters: the product,
# the product, the offset, how many rows). The offset within the block is stepped over in the
# rank index alone (only the key is selected: an index-only scan), not row by row: an index scan
# selecting the id too would fetch every row it steps over (up to a block's, a millisecond).
_FROM_OFFSET = (
    f"FROM {TABLE} WHERE product_id = %s AND rank >= (SELECT rank FROM {TABLE} WHERE product_id = %s "
    "AND rank >= (SELECT low FROM b) ORDER BY rank LIMIT 1 OFFSET COALESCE((SELECT %s - before FROM b), 0)) "
    "ORDER BY rank LIMIT %s"
)


# What ``items_and_landing`` says of each row of the order around the landing place.
NEIGHBOUR, ANCHOR, LAST = "neighbour", "anchor", "last"


def _landing_parts(
    product_id: int, where: str, moving: int, anchor_id: int | None, offset: int | None
) -> tuple[str, list, list[tuple[str, list]]]:
    """The SQL of ``items_and_landing``'s landing rows: a CTE (or ``""``) with its parameters, and
    pieces ``(SELECT of what, id, rank, counted; parameters)``."""
    ordered = f"FROM {TABLE} WHERE product_id = %s AND rank IS NOT NULL"
    none = "CAST(NULL AS BIGINT) AS counted"
    if where == "top":
        sql = f"SELECT '{NEIGHBOUR}' AS what, id, rank, {none} {ordered} ORDER BY rank LIMIT %s"
        return "", [], [(sql, [product_id, moving + 1])]
    if where == "bottom":
        total = f"(SELECT COALESCE(SUM(size), 0) FROM {BLOCKS} WHERE product_id = %s) AS counted"
        sql = f"SELECT '{LAST}' AS what, id, rank, {total} {ordered} ORDER BY rank DESC LIMIT %s"
        return "", [], [(sql, [product_id, product_id, moving + 1])]
    if where in ("before", "after"):
        anchor = (
            f"SELECT '{ANCHOR}' AS what, a.id, a.rank, {position_sql('a.product_id', 'a.rank')} AS counted "
            f"FROM {TABLE} a WHERE a.product_id = %s AND a.id = %s AND a.rank IS NOT NULL"
        )
        side, direction = ("<", "DESC") if where == "before" else (">", "ASC")
        beside = (
            f"SELECT '{NEIGHBOUR}' AS what, id, rank, {none} {ordered} AND rank {side} "
            f"(SELECT rank FROM {TABLE} WHERE product_id = %s AND id = %s) ORDER BY rank {direction} LIMIT %s"
        )
        return "", [], [(anchor, [product_id, anchor_id]), (beside, [product_id, product_id, anchor_id, moving + 1])]
    # A position: the rows from ``offset`` on, enough for any moving items above them to be left out.
    window = f"SELECT '{NEIGHBOUR}' AS what, id, rank, {none} {_FROM_OFFSET}"
    window_params = [product_id, product_id, offset, 2 + 2 * moving]
    return f"WITH b AS ({_BLOCK_AT_OFFSET})", [product_id, offset], [(window, window_params)]


def items_and_landing(
    product_id: int,
    item_ids: Sequence[int],
    *,
    where: str,
    moving: int | None = None,
    anchor_id: int | None = None,
    offset: int | None = None,
) -> tuple[list[tuple], list[tuple[str, int, str, int | None]]]:
    """Read in one statement what a move needs before it writes: the moving items as ``(id,
    number, rank, status, version, previous id, next id, position)`` (``items_with_neighbours``
    and the version), and the rows of the order around where they land as ``(what, id, rank,
    counted)``, any moving items among them (the caller leaves them out). ``moving``: how many
    items are left out (default: as many as ``item_ids``), which sets how many rows are read.

    ``where`` is ``top`` (the first rows), ``bottom`` (the last rows, each ``LAST`` and counting
    the order's items), ``before``/``after`` (the ``ANCHOR``, counting its position, and the
    rows next to it on that side) or ``position`` (the rows from the 0-based ``offset`` on, found
    through the blocks like ``at_offset``). The landing rows come in no particular order.
    """
    moving = len(item_ids) if moving is None else moving
    cte, params, parts = _landing_parts(product_id, where, moving, anchor_id, offset)
    selects = []
    if item_ids:
        selects.append(_items_sql("'item', i.id, i.number, i.rank, i.status, i.version", item_ids))
        params += [product_id, *item_ids]
    # Each piece in a sub-select of its own (SQLite takes ORDER BY and LIMIT only at the end of a
    # compound), padded to the items' columns.
    for index, (sql, part_params) in enumerate(parts):
        selects.append(f"SELECT what, id, NULL, rank, NULL, NULL, NULL, NULL, counted FROM ({sql}) AS p{index}")
        params += part_params
    rows = _rows(f"{cte} {' UNION ALL '.join(selects)}", params)
    items = [row[1:] for row in rows if row[0] == "item"]
    return items, [(row[0], row[1], row[3], row[8]) for row in rows if row[0] != "item"]


def last_with_count(product_id: int, *, exclude: Sequence[int] = ()) -> tuple[int, str, int] | None:
    """Return ``(id, rank, how many)`` of the last ordered item of a product, less ``exclude``
    (the count being its position): one statement, the count from the order's blocks."""
    conditions, params = "product_id = %s AND rank IS NOT NULL", [product_id]
    excluded, excluded_params = "0", []
    if exclude:
        conditions += f" AND id NOT IN ({_placeholders(exclude)})"
        params.extend(exclude)
        excluded = (
            f"(SELECT COUNT(*) FROM {TABLE} WHERE product_id = %s AND rank IS NOT NULL "
            f"AND id IN ({_placeholders(exclude)}))"
        )
        excluded_params = [product_id, *exclude]
    rows = _rows(
        f"SELECT id, rank, (SELECT COALESCE(SUM(size), 0) FROM {BLOCKS} WHERE product_id = %s) - {excluded} "
        f"FROM {TABLE} WHERE {conditions} ORDER BY rank DESC LIMIT 1",
        [product_id, *excluded_params, *params],
    )
    return rows[0] if rows else None


def position_of(product_id: int, rank: str) -> int:
    """Return the 1-based position a key has in a product's order (the items before it, plus one)."""
    # The key appears twice in the expression, the product between: parameters in that order.
    [(position,)] = _rows(f"SELECT {position_sql('%s', '%s')}", [rank, product_id, rank])
    return position


class Blocks:
    """A product's order-statistics blocks read once, with the items before each summed here: for
    a request that finds several positions, or items at positions, while it holds the product lock
    (no key moves meanwhile). Each look-up is then a count within one block (an index range of at
    most ``BLOCK_SPLIT_ABOVE`` keys, once the transaction that grew it has split it); only the one
    read of the blocks (a row per thousand items) grows with the order, not every look-up, as with
    ``position_of`` and ``at_offset``."""

    def __init__(self, product_id: int) -> None:
        self.product_id = product_id
        rows = _rows(f"SELECT low, size FROM {BLOCKS} WHERE product_id = %s ORDER BY low", [product_id])
        self.lows = [low for low, _ in rows]
        self.before = list(itertools.accumulate((size for _, size in rows), initial=0))  # one more: the total

    def position_of(self, rank: str) -> int:
        """The 1-based position of the key ``rank`` (as ``position_of``)."""
        index = bisect_right(self.lows, rank) - 1
        if index < 0:  # no blocks: an empty order
            return 1
        [(count,)] = _rows(_in_block_sql("%s", "%s", "%s"), [self.product_id, self.lows[index], rank])
        return self.before[index] + count + 1

    def at_offset(self, offset: int, limit: int = 1) -> list[tuple[int, str]]:
        """``(id, rank)`` of up to ``limit`` ordered items from the 0-based ``offset`` on (as
        ``at_offset`` without ``exclude``): the last block starting at or before it, stepped into."""
        if offset >= self.before[-1]:
            return []
        index = bisect_right(self.before, offset, hi=len(self.lows)) - 1
        return _rows(
            f"WITH b AS (SELECT %s AS low, %s AS before) SELECT id, rank {_FROM_OFFSET}",
            [self.lows[index], self.before[index], self.product_id, self.product_id, offset, limit],
        )


def _at_offset(product_id: int, offset: int, limit: int) -> list[tuple[int, str]]:
    """``(id, rank)`` of the ordered items from the 0-based ``offset`` on, in one statement: the
    block holding that offset (the block sizes summed in order), then a count within it."""
    return _rows(
        f"WITH b AS ({_BLOCK_AT_OFFSET}) SELECT id, rank {_FROM_OFFSET}",
        [product_id, offset, product_id, product_id, offset, limit],
    )


def at_offset(
    product_id: int,
    offset: int,
    limit: int = 1,
    *,
    exclude: Sequence[int] = (),
    excluded_positions: Sequence[int] = (),
) -> list[tuple[int, str]]:
    """Return ``(id, rank)`` of up to ``limit`` ordered items of a product from the 0-based
    ``offset`` on, counting the order less ``exclude``.

    Without ``exclude`` this is ``_at_offset``. With it, the window is read at the offset plus the
    excluded items before it: counted from ``excluded_positions`` (the excluded items' 1-based
    positions, when the caller knows them: one read), or else known only once the window is read,
    which is then read again until that number stops growing (at most once per excluded item).
    """
    if not exclude:
        return _at_offset(product_id, offset, limit)
    excluded = set(exclude)
    if excluded_positions:
        start = offset
        for position in sorted(excluded_positions):
            if position - 1 <= start:
                start += 1
        window = _at_offset(product_id, start, limit + len(excluded))
        return [row for row in window if row[0] not in excluded][:limit]
    ranks = sorted(
        rank
        for (rank,) in _rows(
            f"SELECT rank FROM {TABLE} WHERE product_id = %s AND rank IS NOT NULL AND id IN ({_placeholders(exclude)})",
            [product_id, *exclude],
        )
    )
    start = offset
    while True:
        window = _at_offset(product_id, start, limit + len(ranks))
        if not window:
            return []
        before = bisect_left(ranks, window[0][1])  # excluded items above the window
        if start - before >= offset:
            return [row for row in window if row[0] not in excluded][:limit]
        start = offset + before


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

    ``below``/``above`` keep ranks strictly under/over a key; ``item_id`` keeps one item. An
    ``offset`` into the whole order (no other condition) is found through the blocks
    (``at_offset``), not by skipping that many index entries.
    """
    if offset and below is None and above is None and item_id is None and not descending:
        return at_offset(product_id, offset, limit, exclude=exclude)
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
        if len(ranks) == 1:  # a single move: the plainest statement (the set forms cost more to plan)
            [(pk, rank)] = ranks.items()
            cursor.execute(f"UPDATE {TABLE} SET rank = %s WHERE id = %s", [rank, pk])
            return
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


def products_with_long_keys(longer_than: int) -> list[int]:
    """The products with an ordered key longer than ``longer_than``, from the partial index of long
    keys (``item_long_rank``) when that is the index's length (written into the statement)."""
    return [
        pk
        for (pk,) in _rows(
            f"SELECT DISTINCT product_id FROM {TABLE} WHERE rank IS NOT NULL AND LENGTH(rank) > {int(longer_than)}", []
        )
    ]


def first_long_key(product_id: int, longer_than: int) -> tuple[tuple[int, str], tuple[int, str] | None] | None:
    """The first ordered item of the product whose key is longer than ``longer_than``, and the
    item before it (``ordered_slice``), as ``((id, rank), (id, rank) or None)``; None when no key
    is that long. The length is written into the statement (not a parameter), so that PostgreSQL
    can read the partial index of long keys (``item_long_rank``) when it is the index's."""
    rows = _rows(
        f"SELECT id, rank FROM {TABLE} WHERE product_id = %s AND rank IS NOT NULL "
        f"AND LENGTH(rank) > {int(longer_than)} ORDER BY rank LIMIT 1",
        [product_id],
    )
    if not rows:
        return None
    previous = ordered_slice(product_id, below=rows[0][1], descending=True, limit=1)
    return rows[0], (previous[0] if previous else None)


def park(item_ids: Sequence[int]) -> None:
    """Move the items' keys out of every other key's way (prefixed, they sort before all keys)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET rank = %s || rank WHERE id IN ({_placeholders(item_ids)})",
            [ranking.REBALANCE_PREFIX, *item_ids],
        )


def _counted_size(block: str) -> str:
    """An SQL expression counting the items of the block row ``block`` (a table name or alias): the
    keys from its ``low`` up to the next block's. Parameter: ``after`` (``AFTER_EVERY_KEY``), the
    bound of the last block."""
    following = (
        f"COALESCE((SELECT MIN(o.low) FROM {BLOCKS} o WHERE o.product_id = {block}.product_id "
        f"AND o.low > {block}.low), %(after)s)"
    )
    return (
        f"(SELECT COUNT(*) FROM {TABLE} c WHERE c.product_id = {block}.product_id AND c.rank >= {block}.low "
        f"AND c.rank < {following})"
    )


def blocks_recut(product_id: int, low: str = "", high: str | None = None, *, size: int = BLOCK_SIZE) -> None:
    """Cut the part ``[low, high)`` of a product's order into blocks of ``size`` afresh, from its
    keys (the caller holds the product lock): the blocks starting inside it are replaced, the one
    starting at ``low`` (``''``: the first) kept or made, and every size there counted.

    ``low`` must start a block, or be ``''``. The whole order (the defaults) after raw SQL wrote
    keys without the triggers (the admin's "Count the selected blocks' products again", the
    benchmark's SQL copies), or a part of it (the tests cut small blocks).
    """
    params = {
        "product": product_id,
        "low": low,
        "high": high if high is not None else ranking.AFTER_EVERY_KEY,
        "after": ranking.AFTER_EVERY_KEY,
        "size": size,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {BLOCKS} WHERE product_id = %(product)s AND low > %(low)s AND low < %(high)s", params
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {BLOCKS} (product_id, low, size) VALUES (%(product)s, %(low)s, 0) ON CONFLICT DO NOTHING",
                params,
            )
        else:
            cursor.execute(
                f"INSERT OR IGNORE INTO {BLOCKS} (product_id, low, size) VALUES (%(product)s, %(low)s, 0)", params
            )
        keys = f"SELECT rank FROM {TABLE} WHERE product_id = %(product)s AND rank >= %(low)s AND rank < %(high)s"
        cursor.execute(
            f"INSERT INTO {BLOCKS} (product_id, low, size) "
            f"SELECT %(product)s, rank, 0 FROM (SELECT rank, row_number() OVER (ORDER BY rank) - 1 AS n "
            f"FROM ({keys}) keys) numbered WHERE n > 0 AND n %% %(size)s = 0",
            params,
        )
        cursor.execute(
            f"UPDATE {BLOCKS} SET size = {_counted_size(BLOCKS)} "
            f"WHERE product_id = %(product)s AND low >= %(low)s AND low < %(high)s",
            params,
        )


@contextmanager
def blocks_uncounted() -> Iterator[None]:
    """Keys written inside are not counted by the triggers (PostgreSQL; SQLite counts them, at no
    cost to speak of): for a rebalance, which counts its keys with ``blocks_rewritten`` after. One
    row trigger per rewritten key would update the same few block rows thousands of times in one
    transaction, each update longer than the last (every earlier version stays until it ends)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('onebacklog.order_blocks', 'recut', true)")
        try:
            yield
        finally:
            cursor.execute("SELECT set_config('onebacklog.order_blocks', '', true)")


def blocks_rewritten(product_id: int, old_keys: Sequence[str], new_keys: Sequence[str]) -> None:
    """Count keys rewritten inside ``blocks_uncounted`` (PostgreSQL; SQLite's triggers counted
    them): one from the block of each old key, one to the block of each new key, in one statement
    that writes each block it changes once, whatever the number of keys. The blocks are looked up
    by key (one index probe each), never counted from the keys: what it costs grows with the keys
    rewritten, not with a block's size nor with the dead index entries of keys rewritten earlier.
    A block grown past ``BLOCK_SPLIT_ABOVE`` is split by its trigger when the transaction ends.
    The caller holds the product lock."""
    if connection.vendor != "postgresql" or not old_keys:
        return
    moved = (
        "SELECT rank, -1 AS delta FROM unnest(%(old)s::text[]) AS rank "
        "UNION ALL SELECT rank, 1 FROM unnest(%(new)s::text[]) AS rank"
    )
    block = _block_holding_sql("%(product)s", "k.rank", "id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {BLOCKS} b SET size = b.size + d.delta FROM (SELECT ({block}) AS block, SUM(k.delta) AS delta "
            f"FROM ({moved}) k GROUP BY 1) d WHERE b.id = d.block AND d.delta <> 0",
            {"product": product_id, "old": list(old_keys), "new": list(new_keys)},
        )


def blocks_wrong(product_id: int) -> list[tuple[str, int, int]]:
    """``(low, size stored, size counted)`` of the product's blocks whose stored size is wrong (none,
    while the triggers hold); a check for tests and support, counting the whole order."""
    rows = _rows(
        f"SELECT b.low, b.size, {_counted_size('b')} FROM {BLOCKS} b WHERE b.product_id = %(product)s ORDER BY b.low",
        {"product": product_id, "after": ranking.AFTER_EVERY_KEY},
    )
    return [row for row in rows if row[1] != row[2]]


def ordered_count(product_id: int) -> int:
    """How many items a product's order holds: its block sizes, summed."""
    [(count,)] = _rows(f"SELECT COALESCE(SUM(size), 0) FROM {BLOCKS} WHERE product_id = %s", [product_id])
    return count


# A block smaller than this (not the first) is merged into the one before it by the schedule.
BLOCK_MERGE_BELOW = BLOCK_SIZE // 4


def blocks_merge_small(product_id: int) -> int:
    """Merge each of the product's blocks smaller than ``BLOCK_MERGE_BELOW`` (but the first) into
    the block before it, so that items leaving the order do not leave many small or empty blocks
    behind; return how many were merged. The caller holds the product lock."""
    small = _rows(
        f"SELECT low FROM {BLOCKS} WHERE product_id = %s AND low > '' AND size < %s ORDER BY low DESC",
        [product_id, BLOCK_MERGE_BELOW],
    )
    with connection.cursor() as cursor:
        for (low,) in small:  # from the bottom, so a run of small blocks folds into one
            # Its size now (a block merged into it has grown it).
            cursor.execute(f"SELECT size FROM {BLOCKS} WHERE product_id = %s AND low = %s", [product_id, low])
            [size] = cursor.fetchone()
            # Deleted first: the block before then spans both when its size grows (and, past the
            # limit, is split by the trigger from consistent sizes).
            cursor.execute(f"DELETE FROM {BLOCKS} WHERE product_id = %s AND low = %s", [product_id, low])
            cursor.execute(
                f"UPDATE {BLOCKS} SET size = size + %s WHERE id = (SELECT id FROM {BLOCKS} "
                f"WHERE product_id = %s AND low < %s ORDER BY low DESC LIMIT 1)",
                [size, product_id, low],
            )
    return len(small)


def products_with_small_blocks() -> list[int]:
    """The products with a block to merge (``blocks_merge_small``)."""
    return [
        pk
        for (pk,) in _rows(
            f"SELECT DISTINCT product_id FROM {BLOCKS} WHERE low > '' AND size < %s", [BLOCK_MERGE_BELOW]
        )
    ]


# The advisory lock's first key: "rebalance" among this project's advisory locks (the second is the product).
REBALANCE_LOCK = 17


@contextmanager
def rebalance_claimed(product_id: int) -> Iterator[bool]:
    """Claim the product's rebalance for as long as the block runs; yields False when another
    rebalance of it is under way (in this process or another). Two at once would each take items
    the other had already moved into its region for items still to do, and could misorder them.

    PostgreSQL: a session advisory lock, released with the connection should the process die;
    inside a transaction (a request that must rebalance before it writes) the transaction's own,
    released when it ends however it ends. SQLite: a lock file (``flock``) beside the database
    file, or in the temporary directory for an in-memory database (one process's own)."""
    if connection.vendor == "postgresql":
        scope = "xact_" if connection.in_atomic_block else ""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_try_advisory_{scope}lock(%s, %s)", [REBALANCE_LOCK, product_id])
            [(taken,)] = cursor.fetchall()
        try:
            yield taken
        finally:
            if taken and not scope:
                # A connection lost meanwhile took the lock with it: nothing to give back then.
                with contextlib.suppress(Error), connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [REBALANCE_LOCK, product_id])
        return
    from config.scheduler import lock_path  # where a database's lock files live

    with lock_path(connection.settings_dict, f"rebalance-{product_id}").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
