"""The ordering engine: place, move, block-move, remove, rebalance.

Each ordered item holds one rank key (see ``backlog.ranking``); the backlog is the items sorted
by key. A move computes a key strictly between the target neighbours and writes that one row
plus its history record. Writers serialize per product on the product row lock
(``SELECT … FOR UPDATE``), so concurrent moves never produce duplicate keys or lost items.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import Product, User
from accounts.permissions import Action, require
from backlog import ranking
from backlog.models import Item, ItemEvent

Where = Literal["top", "bottom", "before", "after", "position"]


@dataclass(frozen=True)
class Placement:
    """Where an item goes in the order."""

    where: Where
    anchor_id: int | None = None  # for before / after
    position: int | None = None  # for position: 1-based, after the move

    def __post_init__(self) -> None:
        if self.where in ("before", "after") and self.anchor_id is None:
            raise ValidationError({"anchor": f"Say which item to move {self.where}."})
        if self.where == "position" and (self.position is None or self.position < 1):
            raise ValidationError({"position": "A position is a whole number, 1 or more."})

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
class Gap:
    """The neighbours an item lands between (None at either end)."""

    after: Item | None
    before: Item | None

    @property
    def keys(self) -> tuple[str | None, str | None]:
        return (
            self.after.rank if self.after else None,
            self.before.rank if self.before else None,
        )


def lock_product(product: Product | int) -> Product:
    """Lock the product row for the rest of the transaction: the per-product write lock."""
    product_id = getattr(product, "pk", product)
    return Product.objects.select_for_update().get(pk=product_id)


def _ordered(product: Product, exclude_ids: Sequence[int] = ()):
    queryset = Item.objects.filter(product=product, rank__isnull=False).only("id", "number", "rank")
    return queryset.exclude(pk__in=exclude_ids) if exclude_ids else queryset


def _gap_for(product: Product, placement: Placement, exclude_ids: Sequence[int]) -> Gap:
    """Find the neighbours of ``placement`` among the ordered items not being moved."""
    others = _ordered(product, exclude_ids)
    if placement.where == "top":
        return Gap(after=None, before=others.order_by("rank").first())
    if placement.where == "bottom":
        return Gap(after=others.order_by("-rank").first(), before=None)
    if placement.where == "position":
        index = placement.position - 1
        window = list(others.order_by("rank")[max(index - 1, 0) : index + 1])
        if index == 0:
            return Gap(after=None, before=window[0] if window else None)
        if not window:
            # Past the end: the bottom.
            return Gap(after=others.order_by("-rank").first(), before=None)
        return Gap(after=window[0], before=window[1] if len(window) > 1 else None)

    if placement.anchor_id in exclude_ids:
        raise ValidationError({"anchor": "An item cannot be moved next to itself."})
    anchor = others.filter(pk=placement.anchor_id).first()
    if anchor is None:
        raise ValidationError({"anchor": "The anchor item is not in this product's order."})
    if placement.where == "before":
        return Gap(
            after=others.filter(rank__lt=anchor.rank).order_by("-rank").first(),
            before=anchor,
        )
    return Gap(
        after=anchor,
        before=others.filter(rank__gt=anchor.rank).order_by("rank").first(),
    )


def _neighbours_of(product: Product, rank: str) -> Gap:
    """Return the items right before and after ``rank`` in the current order."""
    ordered = _ordered(product)
    return Gap(
        after=ordered.filter(rank__lt=rank).order_by("-rank").first(),
        before=ordered.filter(rank__gt=rank).order_by("rank").first(),
    )


def _gap_record(gap: Gap) -> dict:
    return {
        "after_id": gap.after.pk if gap.after else None,
        "after_number": gap.after.number if gap.after else None,
        "before_id": gap.before.pk if gap.before else None,
        "before_number": gap.before.number if gap.before else None,
    }


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
    return _respace_around(product, gap, moving)


def _respace_around(product: Product, gap: Gap, moving: list[Item]) -> list[str]:
    """Respace the smallest window around ``gap`` whose keys fit in half the maximum length.

    The window grows by doubling until its outer neighbours leave room for short keys. Its items
    are rewritten in order (the order never changes); the keys for ``moving`` are returned.
    """
    target = settings.ORDER_KEY_MAX_LENGTH // 2
    others = _ordered(product, [item.pk for item in moving if item.pk])
    reach = 16
    while True:
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
    for item in moving:
        if item.rank is not None and (lo is None or lo < item.rank) and (hi is None or item.rank < hi):
            item.rank = ranking.REBALANCE_PREFIX + item.rank
            Item.objects.filter(pk=item.pk).update(rank=item.rank)
    window = window_before + window_after
    current = {item.pk: item.rank for item in window}
    split = len(window_before)
    for item, key in zip(window, keys[:split] + keys[split + len(moving) :], strict=True):
        item.rank = key
    _write_ranks(window, current)
    return keys[split : split + len(moving)]


def order_place(*, item: Item, placement: Placement) -> Gap:
    """Give an unordered (or new) item a key at ``placement``; return its neighbours.

    Sets ``item.rank`` without saving: the caller saves it with the status change, in the same
    transaction, holding the product lock.
    """
    gap = _gap_for(item.product, placement, (item.pk,) if item.pk else ())
    item.rank = _keys_for(item.product, gap, [item])[0]
    return gap


def order_remove(*, item: Item) -> Gap:
    """Take an item out of the order; return the neighbours it had. Call with the product locked."""
    gap = _neighbours_of(item.product, item.rank)
    item.rank = None
    return gap


@dataclass(frozen=True)
class MoveResult:
    items: list[Item]
    gap: Gap  # the neighbours of the moved block
    operation: uuid.UUID


def items_move(
    *,
    product: Product,
    actor: User,
    item_ids: Sequence[int],
    to: Placement,
    reason: str = "",
    operation: uuid.UUID | None = None,
) -> MoveResult:
    """Move one item or a block of items to ``to``, keeping the block's relative order.

    Writes one row per moved item whose key changes, plus one history record each.
    """
    unique_ids = list(dict.fromkeys(item_ids))
    if not unique_ids:
        raise ValidationError({"items": "Choose at least one item to move."})
    require(actor, Action.REORDER, product)
    operation = operation or uuid.uuid4()
    with transaction.atomic():
        product = lock_product(product)
        items = list(
            Item.objects.filter(product=product, pk__in=unique_ids).only("id", "number", "rank", "status", "product_id")
        )
        missing = set(unique_ids) - {item.pk for item in items}
        if missing:
            raise ValidationError({"items": f"No such item in this product: {sorted(missing)}."})
        unordered = [item for item in items if item.rank is None]
        if unordered:
            numbers = ", ".join(f"{product.key}-{item.number}" for item in unordered)
            raise ValidationError({"items": f"Not in the backlog order (proposed, done or archived): {numbers}."})
        items.sort(key=lambda item: item.rank)

        gap = _gap_for(product, to, unique_ids)
        if len(items) == 1 and _is_within(items[0].rank, gap):
            # Already there: nothing moves, nothing is written.
            return MoveResult(items=items, gap=gap, operation=operation)

        old_gaps = {item.pk: _neighbours_of(product, item.rank) for item in items}
        old_keys = {item.pk: item.rank for item in items}
        keys = _keys_for(product, gap, items)
        current = {item.pk: item.rank for item in items}  # differs from old_keys if parked
        for item, key in zip(items, keys, strict=True):
            item.rank = key
        _write_ranks(items, current)
        ItemEvent.objects.bulk_create(
            ItemEvent(
                item_id=item.pk,
                product=product,
                actor=actor,
                type=ItemEvent.Type.MOVED,
                data={
                    "from": {
                        **_gap_record(old_gaps[item.pk]),
                        "rank": old_keys[item.pk],
                    },
                    "to": {**_gap_record(gap), "rank": item.rank},
                    "block_size": len(items),
                },
                reason=reason,
                operation=operation,
            )
            for item in items
            if item.rank != old_keys[item.pk]
        )
    return MoveResult(items=items, gap=gap, operation=operation)


def _is_within(rank: str, gap: Gap) -> bool:
    lo, hi = gap.keys
    return (lo is None or lo < rank) and (hi is None or rank < hi)


def item_move(*, item: Item, actor: User, to: Placement, reason: str = "") -> MoveResult:
    """Move one item to ``to``."""
    return items_move(product=item.product, actor=actor, item_ids=[item.pk], to=to, reason=reason)


def _write_ranks(items: list[Item], old_keys: dict[int, str]) -> None:
    """Write new keys one row each, in an order that never collides on the unique index.

    A moved item's new key can equal another moved item's old key. Both sequences are sorted
    the same way, so an item moving up can only collide with one above it that also moves up:
    writing upward movers from the top down (and downward movers bottom up) avoids it.
    """
    up = sorted(
        (i for i in items if i.rank > old_keys[i.pk]),
        key=lambda i: old_keys[i.pk],
        reverse=True,
    )
    down = sorted((i for i in items if i.rank < old_keys[i.pk]), key=lambda i: old_keys[i.pk])
    for item in up + down:
        Item.objects.filter(pk=item.pk).update(rank=item.rank)


def order_rebalance(*, product: Product) -> int:
    """Rewrite the product's keys as short evenly numbered keys, keeping the order.

    Set-based: two UPDATE statements, whatever the backlog size (the first moves every key out
    of the way of the unique index, the second numbers them in order). Returns the item count.
    """
    table = connection.ops.quote_name(Item._meta.db_table)
    with transaction.atomic():
        product = lock_product(product)
        count = Item.objects.filter(product=product, rank__isnull=False).count()
        if not count:
            return 0
        width = ranking.rebalance_width(count)
        # The expression uses %, which the DB-API parameter syntax needs doubled.
        new_key = ranking.rebalanced_key_sql("numbered.position", width).replace("%", "%%")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rank = %s || rank WHERE product_id = %s AND rank IS NOT NULL",
                [ranking.REBALANCE_PREFIX, product.pk],
            )
            cursor.execute(
                f"""UPDATE {table} SET rank = renumbered.new_rank
                FROM (
                    SELECT numbered.id AS id, {new_key} AS new_rank
                    FROM (
                        SELECT id, row_number() OVER (ORDER BY rank) - 1 AS position
                        FROM {table}
                        WHERE product_id = %s AND rank IS NOT NULL
                    ) AS numbered
                ) AS renumbered
                WHERE {table}.id = renumbered.id
                """,
                [product.pk],
            )
    return count
