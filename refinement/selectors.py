from django.db.models import QuerySet

from accounts.models import Product
from backlog.models import Item


def stale_items(*, product: Product) -> QuerySet[Item]:
    """The product's flagged stale items, in backlog order (longest untouched first within ties)."""
    return (
        Item.objects.filter(product=product, stale_flag__isnull=False, rank__isnull=False)
        .select_related("product", "stale_flag")
        .order_by("rank")
    )
