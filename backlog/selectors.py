"""Reads of the backlog that span relations."""

from django.db.models import QuerySet

from accounts.models import Product
from backlog.models import Item, ItemEvent


def backlog_items(*, product: Product) -> QuerySet[Item]:
    """Return the ordered backlog (open and in-progress items) in rank order."""
    return Item.objects.filter(product=product, rank__isnull=False).select_related("product").order_by("rank")


def item_position(*, item: Item) -> int | None:
    """Return the item's 1-based position in the order, or None when it is not ordered."""
    if item.rank is None:
        return None
    return Item.objects.filter(product_id=item.product_id, rank__lt=item.rank).count() + 1


def item_history(*, item: Item) -> QuerySet[ItemEvent]:
    """Return the item's history (edits, status changes, moves), oldest first."""
    return ItemEvent.objects.filter(item=item).select_related("actor").order_by("created_at", "id")
