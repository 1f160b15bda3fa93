"""Reads of the backlog that span relations."""

import re

from django.db.models import QuerySet

from accounts.models import Product
from backlog.models import Item, ItemEvent

DIGITS = re.compile(r"[0-9]{1,18}")


def backlog_items(*, product: Product) -> QuerySet[Item]:
    """Return the ordered backlog (open and in-progress items) in rank order."""
    return Item.objects.filter(product=product).ordered().select_related("product")


def item_position(*, item: Item) -> int | None:
    """Return the item's 1-based position in the order, or None when it is not ordered."""
    if item.rank is None:
        return None
    return Item.objects.filter(product_id=item.product_id, rank__lt=item.rank).count() + 1


def item_history(*, item: Item) -> QuerySet[ItemEvent]:
    """Return the item's history (edits, status changes, moves), oldest first."""
    return ItemEvent.objects.filter(item=item).select_related("actor").order_by("created_at", "id")


def item_by_reference(*, reference: str) -> Item | None:
    """Find an item by id (``"42"``) or key (``"OB-42"``), with its product."""
    items = Item.objects.select_related("product", "created_by").prefetch_related("labels")
    if "\x00" in reference:
        return None
    if DIGITS.fullmatch(reference):
        return items.filter(pk=int(reference)).first()
    product_key, _, number = reference.rpartition("-")
    if product_key and DIGITS.fullmatch(number):
        return items.filter(product__key=product_key, number=int(number)).first()
    return None


def items_for_api(*, product: Product) -> QuerySet[Item]:
    """A product's items with what the API shows of each, in a constant number of queries."""
    return (
        Item.objects.filter(product=product)
        .select_related("product", "created_by", "split_from", "duplicate_of")
        .prefetch_related("labels")
    )
