"""The ordering engine: place, move, block-move, remove, respace, rebalance.

Each ordered item holds one rank key (see ``backlog.ranking``); the backlog is the items sorted
by key. A move computes a key strictly between the target neighbours and writes that one row
plus its history record. Writers serialize per product on the product row lock
(``SELECT … FOR UPDATE``), so concurrent moves never produce duplicate keys or lost items.

The history (``backlog.history``) records where each moved item stood and went: its neighbours
and its position. A position is counted from the order's blocks: where a moved item was, and the
anchor it lands next to, both in the one statement that reads the items and where they land
(``order_sql.items_and_landing``); where it lands follows without counting again (the top is 1,
the bottom's is the order's size, a position in the order is the one asked for, next to an anchor
the anchor's less the moved items above it). A block's keys are written in one statement,
whatever its size.
"""

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import Product, User
from accounts.permissions import Action, lock_product_for, require
from backlog import history, order_sql, ranking
from backlog.history import Place
from backlog.jobs import enqueue_suggestions
from backlog.models import LONG_KEY, Item, item_key
from backlog.transactions import retry_on_conflict

Where = Literal["top", "bottom", "before", "after", "position"]
# Positions past the end mean the bottom; beyond this they are refused (a database offset limit).
MAX_POSITION = 1_000_000_000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """Where an item goes in the order."""

    where: Where
    anchor_id: int | None = None  # for before / after
    position: int | None = None  # for position: 1-based, after the move

    def __post_init__(self) -> None:
        if self.where in ("before", "after") and self.anchor_id is None:
            raise ValidationError({"anchor": f"Say which item to move {self.where}."})
        if self.where == "position" and (self.position is None or not 1 <= self.position <= MAX_POSITION):
            raise ValidationError({"position": f"A position is a whole number from 1 to {MAX_POSITION:,}."})

    @classmethod
    def top(cls) -> "Placement":
        return cls("top")

    @classmethod
    def bottom(cls) -> "Placement":
        return cls("bottom")

    @classmethod
    def before(cls, item: Item | int) -> "Placement":
        return cls("before", anchor_id=getattr(item, "pk", item))

    @classmethod
    def after(cls, item: Item | int) -> "Placement":
        return cls("after", anchor_id=getattr(item, "pk", item))

    @classmethod
    def at(cls, position: int) -> "Placement":
        return cls("position", position=position)


@dataclass(frozen=True)
class Neighbour:
    id: int
    rank: str


@dataclass(frozen=True)
class Gap:
    """The neighbours something lands between (None at either end)."""

    after: Neighbour | None
    before: Neighbour | None
    after_position: int | None = None  # when known without counting (the bottom)

    @property
    def keys(self) -> tuple[str | None, str | None]:
        return (self.after.rank if self.after else None, self.before.rank if self.before else None)

    def contains(self, rank: str) -> bool:
        lo, hi = self.keys
        return (lo is None or lo < rank) and (hi is None or rank < hi)

    def places(self, ids: Sequence[int], first_position: int) -> list[Place]:
        """Where each of a block landing in the gap stands (ids in order, the first at
        ``first_position``), as the history records it."""
        bounds = [self.after.id if self.after else None, *ids, self.before.id if self.before else None]
        return [
            history.place(position=first_position + index, after_id=bounds[index], before_id=bounds[index + 2])
            for index in range(len(ids))
        ]


def lock_product(product: Product | int) -> Product:
    """Lock the product row for the rest of the transaction: the per-product write lock."""
    return Product.objects.select_for_update().get(pk=getattr(product, "pk", product))


def _ordered(product_id: int, exclude_ids: Sequence[int] = ()) -> QuerySet[Item]:
    queryset = Item.objects.filter(product_id=product_id).in_order()
    return queryset.exclude(pk__in=exclude_ids) if exclude_ids else queryset


def _landing(placement: Placement, moving: int) -> dict:
    """What ``order_sql.items_and_landing`` reads for ``placement``, ``moving`` items left out."""
    where = placement.where
    if where == "position" and placement.position == 1:
        where = "top"
    return {
        "where": where,
        "moving": moving,
        "anchor_id": placement.anchor_id,
        "offset": placement.position - 2 if where == "position" else None,
    }


def _check_anchor(placement: Placement, exclude_ids: Sequence[int]) -> None:
    if placement.anchor_id is not None and placement.anchor_id in exclude_ids:
        raise ValidationError({"anchor": "An item cannot be moved next to itself."})


def _gap_from(
    placement: Placement,
    rows: list[tuple[str, int, str, int | None]],
    exclude_ids: Sequence[int],
    exclude_positions: Sequence[int],
) -> Gap | None:
    """The gap ``placement`` lands in, from the rows ``order_sql.items_and_landing`` read around
    it, among the items not being moved (``exclude_ids``; ``exclude_positions``: the positions of
    those of them in the order). None for a position past the end: the bottom's gap, read apart.

    Where the gap's first neighbour stands is known without counting: the anchor's position less
    the moved items above it, or the order's size less the moved items (the bottom)."""
    excluded = set(exclude_ids)
    where = _landing(placement, len(exclude_ids))["where"]
    descending = where in ("bottom", "before")  # read upwards from the bottom or the anchor
    others = [
        Neighbour(pk, rank)
        for what, pk, rank, _ in sorted(rows, key=lambda row: row[2], reverse=descending)
        if what != order_sql.ANCHOR and pk not in excluded
    ]
    first = others[0] if others else None
    if where == "top":
        return Gap(after=None, before=first)
    if where == "bottom":
        if first is None:
            return Gap(after=None, before=None)
        total = rows[0][3]
        return Gap(after=first, before=None, after_position=total - len(exclude_positions))
    if where in ("before", "after"):
        anchors = [row for row in rows if row[0] == order_sql.ANCHOR]
        if not anchors:
            raise ValidationError({"anchor": "The anchor item is not in this product's order."})
        [(_, anchor_id, anchor_rank, anchor_position)] = anchors
        anchor = Neighbour(anchor_id, anchor_rank)
        above = anchor_position - sum(1 for position in exclude_positions if position < anchor_position)
        if where == "before":
            return Gap(after=first, before=anchor, after_position=above - 1)
        return Gap(after=anchor, before=first, after_position=above)
    # A position: the window starts further down by each moved item above it (the order without
    # them is shorter there), as in ``order_sql.at_offset``.
    offset = start = placement.position - 2
    for position in sorted(exclude_positions):
        if position - 1 <= start:
            start += 1
    read = [Neighbour(pk, rank) for _, pk, rank, _ in sorted(rows, key=lambda row: row[2])]
    window = [row for row in read[start - offset : start - offset + 2 + len(excluded)] if row.id not in excluded]
    if not window:
        return None
    return Gap(after=window[0], before=window[1] if len(window) > 1 else None)


def _gap_for(
    product: Product, placement: Placement, exclude_ids: Sequence[int], exclude_positions: Sequence[int] = ()
) -> Gap:
    """Find the neighbours of ``placement`` among the ordered items not being moved
    (``exclude_ids``, at ``exclude_positions``: those of them in the order)."""
    _check_anchor(placement, exclude_ids)
    _, rows = order_sql.items_and_landing(product.pk, [], **_landing(placement, len(exclude_ids)))
    return _gap_from(placement, rows, exclude_ids, exclude_positions) or _bottom(product, exclude_ids)


def _bottom(product: Product, exclude_ids: Sequence[int]) -> Gap:
    """The gap after the last item (and where that item stands, in the same statement)."""
    last = order_sql.last_with_count(product.pk, exclude=exclude_ids)
    if last is None:
        return Gap(after=None, before=None)
    return Gap(after=Neighbour(last[0], last[1]), before=None, after_position=last[2])


def _keys_for(product: Product, gap: Gap, moving: list[Item]) -> list[str]:
    """Return keys for ``moving`` (in order) in ``gap``.

    Normally the keys lie strictly between the gap's neighbours and nothing else is written.
    When the gap has no key left within ``settings.ORDER_KEY_MAX_LENGTH`` (thousands of inserts
    into one gap), a window of neighbours around it is respaced first: the local relabelling of
    order-maintenance lists, which keeps every key bounded at an amortized cost of a few rows.
    """
    keys = ranking.keys_between(*gap.keys, len(moving))
    if max(len(key) for key in keys) <= settings.ORDER_KEY_MAX_LENGTH:
        return keys
    return _respace_for_write(product, gap, moving)


def _respace_for_write(product: Product, gap: Gap, moving: list[Item]) -> list[str]:
    """``_respace_around`` (no limit: it always finds a window) for a write whose gap has no key
    left, refused while a rebalance of the product is under way: the window could reach across
    the part the rebalance has rewritten, whose later chunks would misorder it (see
    ``order_respace_long_keys``). The claim is the write's until its transaction ends."""
    with order_sql.rebalance_claimed(product.pk) as claimed:
        if not claimed:
            raise ValidationError(
                {"items": "The order's keys are being rewritten (a rebalance is under way); try again in a minute."}
            )
        return _respace_around(product, gap, moving)


def _respace_around(
    product: Product, gap: Gap, moving: list[Item], *, target: int | None = None, most: int | None = None
) -> list[str] | None:
    """Respace the smallest window around ``gap`` whose keys fit in ``target`` characters (half
    the maximum length unless given).

    The window grows by doubling until its outer neighbours leave room for short keys. Its items
    are rewritten in order (the order never changes); the keys for ``moving`` are returned. With
    ``most``, a window that would take more than ``most`` items is not written (None).
    """
    target = target or settings.ORDER_KEY_MAX_LENGTH // 2
    others = _ordered(product.pk, [item.pk for item in moving if item.pk]).only("id", "rank")
    reach = 16
    while True:
        if most is not None and 2 * reach > most:
            return None
        before = list(others.filter(rank__lte=gap.after.rank).order_by("-rank")[: reach + 1]) if gap.after else []
        after = list(others.filter(rank__gte=gap.before.rank).order_by("rank")[: reach + 1]) if gap.before else []
        lo = before[reach].rank if len(before) > reach else None
        hi = after[reach].rank if len(after) > reach else None
        window_before, window_after = before[:reach][::-1], after[:reach]
        keys = ranking.keys_between(lo, hi, len(window_before) + len(moving) + len(window_after))
        if max(len(key) for key in keys) <= target or (lo is None and hi is None):
            break
        reach *= 2

    # A moved item whose key lies inside the window could collide with a new key: park it first.
    inside = [
        item
        for item in moving
        if item.rank is not None and (lo is None or lo < item.rank) and (hi is None or item.rank < hi)
    ]
    if inside:
        order_sql.park([item.pk for item in inside])
        for item in inside:
            item.rank = ranking.REBALANCE_PREFIX + item.rank
    window = window_before + window_after
    current = {item.pk: item.rank for item in window}
    split = len(window_before)
    for item, key in zip(window, keys[:split] + keys[split + len(moving) :], strict=True):
        item.rank = key
    _write_ranks(window, current)
    return keys[split : split + len(moving)]


def _write_ranks(items: list[Item], current: dict[int, str]) -> None:
    """Write the items' new keys (``current`` holds their keys now) as a set: ``order_sql.write_ranks``."""
    order_sql.write_ranks({item.pk: item.rank for item in items}, current)


def _position_at(product: Product, gap: Gap, rank: str, placement: Placement) -> int:
    """The position of a key just placed in ``gap`` at ``placement``: counted, unless it is
    known (the top, the bottom, a position within the order)."""
    if gap.after is None:
        return 1
    if gap.after_position is not None:
        return gap.after_position + 1
    if placement.where == "position":  # found its window (past the end is the bottom, above)
        return placement.position
    return order_sql.position_of(product.pk, rank)


def order_place(*, item: Item, placement: Placement) -> Place:
    """Give an unordered (or new) item a key at ``placement``; return where it lands.

    Sets ``item.rank`` without saving: the caller saves it with the status change, in the same
    transaction, holding the product lock.
    """
    gap = _gap_for(item.product, placement, (item.pk,) if item.pk else ())
    item.rank = _keys_for(item.product, gap, [item])[0]
    [landing] = gap.places([item.pk], _position_at(item.product, gap, item.rank, placement))
    return landing


def order_place_block(*, items: list[Item], placement: Placement) -> tuple[Gap, int]:
    """Give new items consecutive keys at ``placement``, in the order given; return their
    neighbours and the first one's position (``Gap.places`` says where each lands once saved).

    Sets each ``item.rank`` without saving, like ``order_place``: one gap, one block of keys.
    """
    product = items[0].product
    gap = _gap_for(product, placement, ())
    for item, key in zip(items, _keys_for(product, gap, items), strict=True):
        item.rank = key
    return gap, _position_at(product, gap, items[0].rank, placement)


def order_block_keys(
    *, product: Product, placement: Placement, counts: Sequence[int]
) -> tuple[Gap, Iterator[list[str]], int]:
    """Keys for new items placed as one block at ``placement``, written piece by piece (``counts``
    items a piece, at least one in all; the caller holds the product lock and writes the items
    with them): their neighbours, the keys of each piece in order (one piece at a time, so a
    large block's keys are never all held), and the first one's position. Like
    ``order_place_block`` without holding the items themselves.

    The gap is first cut by one key between each two pieces (keys nobody takes), and each piece's
    keys lie between its two cuts. Only when some key would be over ``ORDER_KEY_MAX_LENGTH`` are
    the neighbours respaced, and then the whole block's keys are made at once."""
    gap = _gap_for(product, placement, ())
    lo, hi = gap.keys
    cuts = [lo, *ranking.keys_between(lo, hi, len(counts) - 1), hi] if len(counts) > 1 else [lo, hi]

    def piece(index: int) -> list[str]:
        return ranking.keys_between(cuts[index], cuts[index + 1], counts[index]) if counts[index] else []

    too_long = any(len(key) > settings.ORDER_KEY_MAX_LENGTH for index in range(len(counts)) for key in piece(index))
    if too_long:
        keys = _respace_for_write(product, gap, [Item(product=product) for _ in range(sum(counts))])
        starts = [sum(counts[:index]) for index in range(len(counts))]
        pieces = (keys[start : start + count] for start, count in zip(starts, counts, strict=True))
        first = keys[0]
    else:
        pieces = (piece(index) for index in range(len(counts)))
        first = next(key for index in range(len(counts)) for key in piece(index)[:1])
    return gap, pieces, _position_at(product, gap, first, placement)


def order_remove(*, item: Item) -> Place:
    """Take an item out of the order; return where it stood (as the history stores it).

    Sets ``item.rank`` and ``item.suggested_position`` (an item out of the order has none) without
    saving, like ``order_place``: the caller saves both.
    """
    [(*_, previous_id, next_id, position)] = order_sql.items_with_neighbours(item.product_id, [item.pk])
    item.leave_order()
    return history.place(position=position, after_id=previous_id, before_id=next_id)


@dataclass(frozen=True)
class MoveResult:
    items: list[Item]
    gap: Gap  # the neighbours of the moved block
    position: int  # the first moved item's, after the move
    operation: uuid.UUID


@retry_on_conflict
def items_move(
    *,
    product: Product,
    actor: User,
    item_ids: Sequence[int],
    to: Placement,
    reason: str = "",
    operation: uuid.UUID | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """Move one item or a block of items to ``to``, keeping the block's relative order.

    Writes one row per moved item, plus one history record each (nothing when the item is
    already there). Round trips, the same for one item or a hundred: lock and permission; the
    items with their old neighbours, positions and versions, and the target gap, in one read; the
    keys (one statement, or two when they must step out of each other's way); the history. With
    ``expected_version`` (one item), refuse if someone changed the item since the caller read it
    (a move itself does not change the version).
    """
    unique_ids = list(dict.fromkeys(item_ids))
    if not unique_ids:
        raise ValidationError({"items": "Choose at least one item to move."})
    operation = operation or uuid.uuid4()
    with transaction.atomic():
        product, actions = lock_product_for(actor, product)
        require(actor, Action.REORDER, product, actions=actions)
        _check_anchor(to, unique_ids)
        found, landing_rows = order_sql.items_and_landing(product.pk, unique_ids, **_landing(to, len(unique_ids)))
        items, origins = [], {}
        for pk, number, rank, status, version, after_id, before_id, position in found:
            items.append(Item(pk=pk, product=product, number=number, rank=rank, status=status, version=version))
            origins[pk] = history.place(position=position, after_id=after_id, before_id=before_id)
        if expected_version is not None:
            for item in items:
                item.check_version(expected_version)
        missing = set(unique_ids) - {item.pk for item in items}
        if missing:
            raise ValidationError({"items": f"No such item in this product: {sorted(missing)}."})
        unordered = [item for item in items if item.rank is None]
        if unordered:
            numbers = ", ".join(item_key(product.key, item.number) for item in unordered)
            raise ValidationError({"items": f"Not in the backlog order (proposed, done or archived): {numbers}."})
        items.sort(key=lambda item: item.rank)

        positions = [origin["position"] for origin in origins.values()]
        gap = _gap_from(to, landing_rows, unique_ids, positions) or _bottom(product, unique_ids)
        if len(items) == 1 and gap.contains(items[0].rank):
            # Already there: nothing moves, nothing is written.
            return MoveResult(items=items, gap=gap, position=origins[items[0].pk]["position"], operation=operation)

        old_ranks = {item.pk: item.rank for item in items}
        keys = _keys_for(product, gap, items)
        current = {item.pk: item.rank for item in items}  # differs from the old key if parked
        for item, key in zip(items, keys, strict=True):
            item.rank = key
        _write_ranks(items, current)
        position = _position_at(product, gap, items[0].rank, to)
        landings = gap.places([item.pk for item in items], position)
        history.write(
            history.moved(
                item_id=item.pk,
                product=product,
                actor=actor,
                origin=origins[item.pk],
                destination=landing,
                block_size=len(items),
                reason=reason,
                operation=operation,
            )
            for item, landing in zip(items, landings, strict=True)
            if item.rank != old_ranks[item.pk]
        )
        # Ties and pinned slots of the suggestion follow the order (coalesced; nothing runs now).
        transaction.on_commit(lambda: enqueue_suggestions(product.pk), robust=True)
    return MoveResult(items=items, gap=gap, position=position, operation=operation)


def item_move(
    *, item: Item, actor: User, to: Placement, reason: str = "", expected_version: int | None = None
) -> MoveResult:
    """Move one item to ``to`` (if still at ``expected_version``, when given)."""
    return items_move(
        product=item.product_id,
        actor=actor,
        item_ids=[item.pk],
        to=to,
        reason=reason,
        expected_version=expected_version,
    )


# The schedule respaces around long keys in windows of at most this many items, each window in a
# transaction of its own under the product lock (a move arriving meanwhile waits for one window:
# 10-20 ms for the windows of 24-40 items that 200 inserts into one gap needed in bench/scale.py,
# at 1,000 to 1,000,000 items). Wider windows get the whole product rebalanced instead.
RESPACE_WINDOW_MOST = 1024
# How many windows one run respaces at most (the next run goes on).
RESPACE_WINDOWS_MOST = 1000


def order_respace_long_keys(*, product: Product) -> int | None:
    """Respace the product's keys longer than ``LONG_KEY`` where they are, window by window: the
    smallest window around the first of them whose keys fit in half that length, rewritten in
    order in one short transaction under the product lock, then the next, until none is left.
    Return how many windows it respaced, or None when it stopped short of that: a window would
    take more than ``RESPACE_WINDOW_MOST`` items (nothing of that window written), or a rebalance
    of the product is under way. Either way the caller rebalances the whole product
    (``order_rebalance``, which does nothing while another runs).

    What makes keys long is many inserts into one gap (about 180 in a row reach 33 characters):
    the long keys lie together, and one window of a few hundred items makes them short, whatever
    the product's size. The long keys are found from their own index (``item_long_rank``).

    Each window claims the product's rebalance for its transaction (``order_sql.rebalance_claimed``):
    a window reaching across the part a running rebalance has rewritten would give keys between
    the two regions, which the rebalance's later chunks sort the wrong way round. Between windows
    the claim is free, so writes that must respace a full gap (``_respace_for_write``) go on.
    """
    product_id = getattr(product, "pk", product)
    windows = 0
    while windows < RESPACE_WINDOWS_MOST:
        with transaction.atomic(), order_sql.rebalance_claimed(product_id) as claimed:
            if not claimed:
                logger.info("A rebalance of product %s is under way; not respacing its long keys.", product_id)
                return None
            product = lock_product(product)
            found = order_sql.first_long_key(product.pk, LONG_KEY)
            if found is None:
                return windows
            (item_id, rank), previous = found
            gap = Gap(after=Neighbour(*previous) if previous else None, before=Neighbour(item_id, rank))
            if _respace_around(product, gap, [], target=LONG_KEY // 2, most=RESPACE_WINDOW_MOST) is None:
                return None
        windows += 1
    return windows


# A rebalance rewrites keys in chunks, each a transaction holding the product lock: the longest a
# move waits for it (a move arriving while a chunk runs waits for that chunk).
REBALANCE_CHUNK = 50  # the first chunk's items
REBALANCE_CHUNK_RANGE = (10, 4000)  # the fewest and the most items of a chunk
# How long a chunk may hold the product lock (seconds): what a move arriving meanwhile may wait.
# After each chunk the rebalance pauses ``REBALANCE_PAUSE`` times as long as the chunk held the
# lock, so the product is free for moves most of the time and the job does not keep both of a
# small machine's cores busy. At 100,000 items with a process moving items all along
# (bench/scale.py's mover), the moves' p99 went 2.6-3.2x of no job with 8 ms and no pause (the
# rebalance 44-53 s), 2.2x with 3 ms and no pause (110-114 s), 2.1x with 4 ms and a pause as long
# (164 s). At 10,000 items (two runs each): pause as long 1.55-2.17x (p50 1.6-2.2x; 8-12 s), twice
# as long 1.71-1.76x with 2 ms chunks (p50 1.5x; 14 s), ten times as long 1.38x (p50 1.0x; 29 s).
# On two cores much of what is left is the job's own CPU beside the mover's. The rebalance is a
# background job: moves first.
REBALANCE_HOLD = 0.004
REBALANCE_PAUSE = 2.0


def next_chunk(chunk: int, *, held: float) -> int:
    """The next chunk's size, from how long this one held the lock: towards ``REBALANCE_HOLD``,
    at most doubling or halving at a time (a slow chunk may be a moment's noise), within the range."""
    wanted = chunk * REBALANCE_HOLD / max(held, 1e-6)
    low, high = REBALANCE_CHUNK_RANGE
    return max(low, min(high, chunk * 2, max(chunk // 2, int(wanted))))


def order_rebalance(*, product: Product, chunk: int | None = None) -> int | None:
    """Rewrite the product's keys as short consecutive integer keys, keeping the order; return
    how many items it rewrote.

    Online: a chunk of items at a time from the top, each chunk in a transaction of its own under
    the product lock, so a move waits at most for one chunk and moves carry on between them. The
    chunks are sized to hold the lock about ``REBALANCE_HOLD`` each (``next_chunk``: fewer items
    when the database is busy, thousands when it is quiet), each followed by a pause twice as long
    (``REBALANCE_PAUSE``; none inside a caller's transaction, which keeps the product locked);
    ``chunk`` fixes the size (and there is no pause). The new keys are consecutive integers
    (``ranking.integer_key``) in a region below the first key, so every rewritten item sorts
    before every item not yet rewritten and the order holds after each chunk. Whatever moves
    meanwhile keeps its place: moved above the rewritten part it stays, moved just below it (into
    the new keys' region) it is rewritten with the next chunk, moved among the rest it is
    rewritten when the rebalance gets there.

    The next chunk is read from the last old key rewritten, not from the last new one: between the
    two lie the index entries of every old key rewritten so far, dead until a vacuum, which a read
    through them would step over at every chunk. The blocks' sizes are moved key by key
    (``order_sql.blocks_rewritten``: one from each old key's block, one to each new key's), not
    recounted: recutting the part around each chunk read a few thousand keys there every chunk
    (2.8-3.3 ms a chunk on PostgreSQL, at 100,000 and 1,000,000 items alike: with the rest, over
    the 4 ms a chunk may hold the lock, so chunks shrank to their fewest items and stayed there).
    The blocks the old keys leave stay, emptied, until the schedule merges them
    (``order_sql.blocks_merge_small``); the block taking the new keys is split by its trigger as
    it grows. Should the product grow past the region's room while it runs, the rebalance stops
    there, the order whole.

    One rebalance of a product at a time (``order_sql.rebalance_claimed``): while one runs,
    another (the hourly schedule again, ``manage.py rebalance_order``) returns None at once.
    """
    with order_sql.rebalance_claimed(getattr(product, "pk", product)) as claimed:
        if not claimed:
            logger.info(
                "A rebalance of product %s is already under way; not starting another.", getattr(product, "pk", product)
            )
            return None
        return _rebalance(product, chunk)


def _rebalance(product: Product, chunk: int | None) -> int:
    # Inside a caller's transaction (a request that must rebalance before it writes) the product
    # stays locked to its end: a pause would only make the request, and the lock, last longer.
    pause = chunk is None and not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        product = lock_product(product)
        total = order_sql.ordered_count(product.pk)
        first = order_sql.ordered_slice(product.pk)
    if not first:
        return 0
    # The region: the integers below the first key's, with room for items added while it runs.
    region_end = ranking.integer_value(first[0][1])
    next_value = region_end - total - total // 4 - 1000
    region_end_key = ranking.integer_key(region_end)
    last_key: str | None = None  # the last new key written
    old_cursor: str | None = None  # the last old key rewritten
    written = 0
    size = chunk or REBALANCE_CHUNK
    while True:
        with transaction.atomic():
            lock_product(product)
            locked = time.monotonic()
            # Items moved into the new keys' region, below the last rewritten: this chunk's first.
            rows = (
                order_sql.ordered_slice(product.pk, above=last_key, below=region_end_key, limit=size + 1)
                if last_key is not None
                else []
            )
            following = None
            if len(rows) > size:
                rows, following = rows[:size], rows[size][1]
            else:
                rest = order_sql.ordered_slice(product.pk, above=old_cursor, limit=size + 1 - len(rows))
                taken = rest[: size - len(rows)]
                if taken:
                    old_cursor = taken[-1][1]
                following = rest[len(taken)][1] if len(rest) > len(taken) else None
                rows = rows + taken
            if not rows or next_value + len(rows) >= region_end:
                break
            keys = [ranking.integer_key(next_value + index) for index in range(len(rows))]
            if following is not None and keys[-1] >= following:  # moves crowded the region: keys between
                keys = ranking.keys_between(last_key, following, len(rows))
            with order_sql.blocks_uncounted():
                order_sql.write_ranks({pk: key for (pk, _), key in zip(rows, keys, strict=True)}, dict(rows))
            order_sql.blocks_rewritten(product.pk, [rank for _, rank in rows], keys)
            last_key = keys[-1]
            next_value = ranking.integer_value(last_key) + 1
            written += len(rows)
        if following is None:
            break
        if chunk is None:
            held = time.monotonic() - locked
            size = next_chunk(size, held=held)
            if pause:
                time.sleep(
                    REBALANCE_PAUSE * min(held, REBALANCE_HOLD * 4)
                )  # a slow chunk counts as at most 4x the hold
    return written
