"""Refinement writes. Stale items: flag what nobody has touched for the product's stale period."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product
from backlog.models import Item
from refinement.models import StaleFlag


def stale_items_flag(*, product_id: int) -> tuple[int, int]:
    """Flag the product's ordered items untouched for its stale period; drop obsolete flags.

    Set-based and idempotent. Returns (flags added, flags removed).
    """
    product = Product.objects.get(pk=product_id)
    now = timezone.now()
    cutoff = now - timedelta(days=product.stale_after_days)
    with transaction.atomic():
        removed, _ = (
            StaleFlag.objects.filter(item__product=product)
            .exclude(item__rank__isnull=False, item__updated_at__lt=cutoff, item__updated_at=F("untouched_since"))
            .delete()
        )
        stale = Item.objects.filter(product=product, updated_at__lt=cutoff, stale_flag__isnull=True).in_order()
        added = [
            StaleFlag(item_id=pk, flagged_at=now, untouched_since=updated)
            for pk, updated in stale.values_list("pk", "updated_at")
        ]
        StaleFlag.objects.bulk_create(added, ignore_conflicts=True)
    return len(added), removed
