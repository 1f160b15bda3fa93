"""The order-statistics blocks: positions and the item at a position without counting the order."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import order_sql, ranking
from backlog.models import Item, OrderBlock
from backlog.selectors import backlog_items
from backlog.services.items import item_create, item_transition
from backlog.services.ordering import Placement, items_move, order_rebalance
from config.tests.reads import rows_read


def ordered_ids(product) -> list[int]:
    return list(backlog_items(product=product).values_list("pk", flat=True))


def assert_blocks_agree(product) -> None:
    """Every block's size is right, and every position and offset agrees with the plain list."""
    assert order_sql.blocks_wrong(product.pk) == []
    rows = list(backlog_items(product=product).values_list("pk", "rank"))
    assert [order_sql.position_of(product.pk, rank) for _, rank in rows] == list(range(1, len(rows) + 1))
    for offset in range(len(rows) + 1):
        assert order_sql.at_offset(product.pk, offset, 2) == rows[offset : offset + 2]
    assert order_sql.ordered_count(product.pk) == len(rows)
    blocks = order_sql.Blocks(product.pk)  # the same, from the blocks read once
    assert [blocks.position_of(rank) for _, rank in rows] == list(range(1, len(rows) + 1))
    for offset in range(len(rows) + 1):
        assert blocks.at_offset(offset, 2) == rows[offset : offset + 2]


def bulk_ordered(product, owner, count: int) -> None:
    """``count`` ordered items written in one statement (the triggers count them)."""
    start = Item.objects.filter(product=product).count()
    Item.objects.bulk_create(
        Item(
            product=product,
            number=start + n + 1,
            kind="story",
            title=f"bulk {n}",
            status=Item.Status.OPEN,
            created_by=owner,
            rank=ranking.rebalanced_key(start + n, 4),
        )
        for n in range(count)
    )


def test_positions_hold_through_moves_status_changes_and_deletes(product, owner):
    """A model check with blocks of three: every kind of write keeps the sizes exact."""
    rng = random.Random(17)
    items = [item_create(product=product, actor=owner, kind="story", title=f"t{n}") for n in range(14)]
    order_sql.blocks_recut(product.pk, size=3)
    assert OrderBlock.objects.filter(product=product).count() == 5
    assert_blocks_agree(product)
    for step in range(40):
        ids = ordered_ids(product)
        choice = rng.random()
        if choice < 0.5:
            moving = rng.sample(ids, rng.randint(1, 3))
            to = rng.choice(
                [
                    Placement.top(),
                    Placement.bottom(),
                    Placement.at(rng.randint(1, len(ids) + 2)),
                    Placement.after(rng.choice(ids)),
                    Placement.before(rng.choice(ids)),
                ]
            )
            if to.anchor_id in moving:
                continue
            result = items_move(product=product, actor=owner, item_ids=moving, to=to)
            # The position reported (and recorded in the history) is where the block's first landed.
            assert result.position == min(ordered_ids(product).index(pk) for pk in moving) + 1
        elif choice < 0.65:  # leaves the order
            item = Item.objects.get(pk=rng.choice(ids))
            if item.status == Item.Status.OPEN:
                item_transition(item=item, actor=owner, to=Item.Status.ARCHIVED)
        elif choice < 0.75:  # stays in it
            item = Item.objects.get(pk=rng.choice(ids))
            if item.status == Item.Status.OPEN:
                item_transition(item=item, actor=owner, to=Item.Status.IN_PROGRESS)
        elif choice < 0.95:
            items.append(item_create(product=product, actor=owner, kind="story", title=f"new{step}"))
        else:
            Item.objects.filter(pk=rng.choice(ids)).delete()
        assert_blocks_agree(product)


def test_a_move_to_a_position_counts_without_the_moved_items(product, owner):
    """``Placement.at`` means the position after the move, the moved items left out of the count,
    wherever they stand relative to it (blocks of two, so the window crosses blocks)."""
    items = [item_create(product=product, actor=owner, kind="story", title=f"t{n}") for n in range(10)]
    order_sql.blocks_recut(product.pk, size=2)
    for moving, position in [([0, 1], 5), ([7, 8, 9], 2), ([3, 6], 8), ([2], 1), ([5, 4], 9)]:
        ids = ordered_ids(product)
        chosen = [items[n].pk for n in moving]
        result = items_move(product=product, actor=owner, item_ids=chosen, to=Placement.at(position))
        others = [pk for pk in ids if pk not in chosen]
        block = sorted(chosen, key=ids.index)
        expected = others[: position - 1] + block + others[position - 1 :]
        assert ordered_ids(product) == expected
        assert result.position == min(position, len(others) + 1)
        assert_blocks_agree(product)


@pytest.mark.parametrize("emptied", [(0, 1, 2), (6, 7, 8), (3, 4, 5), (0, 1, 2, 9, 10, 11)])
def test_blocks_read_once_count_within_the_right_block_only(product, owner, emptied, monkeypatch):
    """``order_sql.Blocks`` answers as the plain list does with empty blocks first, last or between,
    and each look-up steps into the block holding its key or offset (the last one starting at or
    before it), never an earlier one: that would answer right too, but count from further up."""
    items = [item_create(product=product, actor=owner, kind="story", title=f"t{n}") for n in range(12)]
    order_sql.blocks_recut(product.pk, size=3)
    for index in emptied:
        item_transition(item=Item.objects.get(pk=items[index].pk), actor=owner, to=Item.Status.ARCHIVED)
    sizes = list(OrderBlock.objects.filter(product=product).order_by("low").values_list("low", "size"))
    assert [size for _, size in sizes] == [
        0 if all(n in emptied for n in range(b, b + 3)) else 3 for b in range(0, 12, 3)
    ]
    blocks = order_sql.Blocks(product.pk)
    rows = list(backlog_items(product=product).values_list("pk", "rank"))
    read = []  # each statement's parameters
    real_rows = order_sql._rows
    monkeypatch.setattr(order_sql, "_rows", lambda sql, params: read.append(params) or real_rows(sql, params))

    def holding(rank: str) -> str:  # the low of the block holding ``rank``: the last starting at or before it
        return max(low for low, _ in sizes if low <= rank)

    for offset, (pk, rank) in enumerate(rows):
        read.clear()
        assert blocks.at_offset(offset) == [(pk, rank)]
        [(low, *_)] = read  # one statement, stepping in from that block's first key
        assert low == holding(rank)
    for position, (_, rank) in enumerate(rows, start=1):
        read.clear()
        assert blocks.position_of(rank) == position
        [(_, low, _)] = read  # one count: product, from that block's low, below the key
        assert low == holding(rank)
    assert blocks.at_offset(len(rows)) == blocks.at_offset(60) == []
    assert blocks.position_of(ranking.AFTER_EVERY_KEY) == len(rows) + 1


def test_blocks_of_a_product_without_any(product):
    OrderBlock.objects.filter(product=product).delete()
    blocks = order_sql.Blocks(product.pk)
    assert blocks.at_offset(0) == [] and blocks.position_of("a") == 1


def test_a_block_past_the_limit_is_split(product, owner):
    bulk_ordered(product, owner, order_sql.BLOCK_SPLIT_ABOVE + 300)
    if connection.vendor == "postgresql":  # the split runs when the transaction commits
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    sizes = list(OrderBlock.objects.filter(product=product).order_by("low").values_list("size", flat=True))
    # SQLite splits as the 2,049th arrives; PostgreSQL cuts the whole block when the transaction ends.
    assert sizes == ([1024, 1324] if connection.vendor == "sqlite" else [1024, 1024, 300])
    assert order_sql.blocks_wrong(product.pk) == []
    rows = list(backlog_items(product=product).values_list("pk", "rank"))
    for position in (1, 1024, 1025, 2049, len(rows)):
        assert order_sql.position_of(product.pk, rows[position - 1][1]) == position
        assert order_sql.at_offset(product.pk, position - 1) == [rows[position - 1]]


def test_deep_positions_cost_the_same_queries_as_shallow_ones(product, owner):
    bulk_ordered(product, owner, 300)
    order_sql.blocks_recut(product.pk, size=16)
    rows = list(backlog_items(product=product).values_list("pk", "rank"))
    counts = []
    for position in (3, 290):
        with CaptureQueriesContext(connection) as ctx:
            assert order_sql.position_of(product.pk, rows[position - 1][1]) == position
            assert order_sql.at_offset(product.pk, position - 1) == [rows[position - 1]]
            items_move(product=product, actor=owner, item_ids=[rows[0][0]], to=Placement.at(position))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["position", "offset", "move"])
def test_deep_reads_do_not_grow_with_the_order(product, owner, where):
    """The rows read to find a position, the item at a position, or to move an item there, deep in
    the order, are bounded by the blocks, not by the position: at most the entries of one block
    (index and row, twice at most for a move) plus one row per block, at 3,000 and at 12,000 items
    (counting the order up to the item would read 11,990)."""
    read = {}
    for size in (3_000, 12_000):
        bulk_ordered(product, owner, size - order_sql.ordered_count(product.pk))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred splits, now
            cursor.execute("ANALYZE backlog_item")
        deep = size - 10
        [(pk, rank)] = order_sql.at_offset(product.pk, deep - 1)
        with rows_read("backlog_item", "backlog_orderblock") as reads:
            if where == "position":
                assert order_sql.position_of(product.pk, rank) == deep
            elif where == "offset":
                assert order_sql.at_offset(product.pk, deep - 1) == [(pk, rank)]
            else:
                [(top, _)] = order_sql.at_offset(product.pk, 0)
                assert items_move(product=product, actor=owner, item_ids=[top], to=Placement.at(deep)).position == deep
        read[size] = reads.rows
    for size, rows in read.items():
        assert rows <= 4 * order_sql.BLOCK_SPLIT_ABOVE + 4 * size // order_sql.BLOCK_SIZE, (size, rows)


def test_the_schedule_merges_blocks_that_items_left(product, owner):
    from backlog.tasks import merge_small_order_blocks

    items = [item_create(product=product, actor=owner, kind="story", title=f"t{n}") for n in range(12)]
    order_sql.blocks_recut(product.pk, size=4)
    for item in items[4:11]:  # the second block empties, the third keeps one item
        item_transition(item=item, actor=owner, to=Item.Status.ARCHIVED)
    assert list(OrderBlock.objects.filter(product=product).order_by("low").values_list("size", flat=True)) == [4, 0, 1]
    assert merge_small_order_blocks() == 2
    assert list(OrderBlock.objects.filter(product=product).values_list("low", "size")) == [("", 5)]
    assert_blocks_agree(product)


@pytest.mark.postgres
def test_a_move_within_its_block_writes_no_block_and_across_blocks_one_statement(product, owner):
    """The block-count trigger finds the block an item leaves and the one it joins first: the same
    block's size stays as it was (no row written); two blocks are written in one statement."""
    items = [item_create(product=product, actor=owner, kind="story", title=f"t{n}") for n in range(8)]
    order_sql.blocks_recut(product.pk, size=4)

    def block_rows_written() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_upd + n_tup_ins FROM pg_stat_xact_user_tables WHERE relname = %s",
                [OrderBlock._meta.db_table],
            )
            return cursor.fetchone()[0]

    written = block_rows_written()
    items_move(product=product, actor=owner, item_ids=[items[3].pk], to=Placement.before(items[1]))  # in block 1
    assert block_rows_written() == written
    items_move(product=product, actor=owner, item_ids=[items[6].pk], to=Placement.top())  # block 2 to block 1
    assert block_rows_written() == written + 2
    assert list(OrderBlock.objects.filter(product=product).order_by("low").values_list("size", flat=True)) == [5, 3]
    assert_blocks_agree(product)


@pytest.mark.postgres
def test_a_rebalance_counts_its_blocks_without_reading_the_keys_around_each_chunk(product, owner):
    """Each chunk of a rebalance moves its keys' counts from their old blocks to their new ones, not
    recounting the blocks around it (which read up to a few thousand keys every chunk, however few
    items it rewrote): the rows read stay a few per item rewritten. The block taking the new keys
    is split as it grows past the limit, and the blocks stay exact."""
    bulk_ordered(product, owner, 3_000)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred splits, as each chunk ends
        cursor.execute("ANALYZE backlog_item")
    before = ordered_ids(product)
    with rows_read("backlog_item", "backlog_orderblock") as reads:
        assert order_rebalance(product=product, chunk=20) == 3_000
    assert ordered_ids(product) == before
    assert_blocks_agree(product)
    assert max(OrderBlock.objects.filter(product=product).values_list("size", flat=True)) <= (
        order_sql.BLOCK_SPLIT_ABOVE
    )
    assert reads.rows <= 20 * 3_000, reads.rows


@pytest.mark.postgres
def test_the_schedule_finds_long_keys_without_reading_the_order(owner):
    """The hourly job finds the products with keys longer than ``LONG_KEY``, and each one's first
    such key, from the partial index of long keys: the rows read are the same for a product of 500
    items and one of 5,000 (without the index every key of the product is read to measure it:
    1,510 and 15,511 rows when this was written; the index's own dead entries, left by earlier
    tests' rolled-back inserts until a vacuum, count the same in both)."""
    from accounts.tests.factories import ProductFactory
    from backlog.models import LONG_KEY

    reads = {}
    for size in (500, 5_000):
        product = ProductFactory()
        bulk_ordered(product, owner, size)
        first = Item.objects.filter(product=product).order_by("rank")[size // 2]
        Item.objects.filter(pk=first.pk).update(rank=first.rank + "x" * LONG_KEY)  # still before the next
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE backlog_item")
        with rows_read("backlog_item") as counted:
            found = order_sql.first_long_key(product.pk, LONG_KEY)
            products = order_sql.products_with_long_keys(LONG_KEY)
        assert found[0][0] == first.pk and product.pk in products
        reads[size] = counted.rows
    assert abs(reads[5_000] - reads[500]) <= 10, reads


@pytest.mark.postgres
def test_the_planner_knows_how_few_keys_are_long(product, owner):
    """PostgreSQL keeps statistics on the keys' length (migration 0018), so it estimates the long
    keys of a product that has none as a row or so and reads them from their partial index. Without
    the statistics its guess for ``LENGTH(rank) > 32`` is a third of the rows (1,000 of 3,000 here)."""
    import json

    from backlog.models import LONG_KEY

    bulk_ordered(product, owner, 3_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE backlog_item")
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT id, rank FROM backlog_item WHERE product_id = %s AND rank IS NOT NULL "
            f"AND LENGTH(rank) > {LONG_KEY} ORDER BY rank",
            [product.pk],
        )
        [[plan]] = cursor.fetchone()
    plan = plan if isinstance(plan, dict) else json.loads(plan)[0]
    scan = plan["Plan"]
    while "Plans" in scan and scan.get("Node Type") != "Index Scan":
        [scan] = scan["Plans"]
    assert scan["Plan Rows"] <= 10, scan
    assert scan.get("Index Name") == "item_long_rank", scan
