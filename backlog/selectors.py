"""Reads of the backlog that span relations."""

import re
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts.models import Product
from backlog import order_sql
from backlog.models import Item, ItemEvent

DIGITS = re.compile(r"[0-9]{1,18}")


def backlog_items(*, product: Product) -> QuerySet[Item]:
    """Return the ordered backlog (open and in-progress items) in rank order."""
    return Item.objects.filter(product=product).ordered().select_related("product")


def item_position(*, item: Item) -> int | None:
    """Return the item's 1-based position in the order, or None when it is not ordered."""
    return order_sql.position_of(item.product_id, item.rank) if item.rank is not None else None


def item_history(*, item: Item) -> QuerySet[ItemEvent]:
    """Return the item's history (edits, status changes, moves), oldest first."""
    return ItemEvent.objects.filter(item=item).select_related("actor").order_by("created_at", "id")


def parse_reference(reference: str) -> tuple[str | None, int] | None:
    """Read an item reference: ``"42"`` is ``(None, 42)`` (an id), ``"OB-42"`` is ``("OB", 42)``
    (a product key and number); anything else is None."""
    if "\x00" in reference:
        return None
    if DIGITS.fullmatch(reference):
        return None, int(reference)
    product_key, _, number = reference.rpartition("-")
    if product_key and DIGITS.fullmatch(number):
        return product_key, int(number)
    return None


def item_by_reference(*, reference: str) -> Item | None:
    """Find an item by id (``"42"``) or key (``"OB-42"``), with its product."""
    parsed = parse_reference(reference)
    if parsed is None:
        return None
    items = Item.objects.select_related("product", "created_by").prefetch_related("labels")
    product_key, number = parsed
    if product_key is None:
        return items.filter(pk=number).first()
    return items.filter(product__key=product_key, number=number).first()


def item_ids_by_reference(*, product: Product, references: Iterable[str]) -> dict[str, int]:
    """Map the references (ids or keys) that name items of ``product`` to their ids, in one query
    whatever their number; the others are left out."""
    ids: dict[str, int] = {}
    numbers: dict[str, int] = {}
    for reference in references:
        parsed = parse_reference(reference)
        if parsed is None or parsed[0] not in (None, product.key):
            continue
        (ids if parsed[0] is None else numbers)[reference] = parsed[1]
    if not ids and not numbers:
        return {}
    found = Item.objects.filter(product=product).filter(
        Q(pk__in=set(ids.values())) | Q(number__in=set(numbers.values()))
    )
    by_id, by_number = {}, {}
    for pk, number in found.values_list("pk", "number"):
        by_id[pk], by_number[number] = pk, pk
    return {
        **{reference: by_id[pk] for reference, pk in ids.items() if pk in by_id},
        **{reference: by_number[number] for reference, number in numbers.items() if number in by_number},
    }


def items_for_api(*, product: Product) -> QuerySet[Item]:
    """A product's items with what the API shows of each, in a constant number of queries."""
    return (
        Item.objects.filter(product=product)
        .select_related("product", "created_by", "split_from", "duplicate_of")
        .prefetch_related("labels")
    )
