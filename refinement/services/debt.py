"""The technical-debt trend: one snapshot per product and day."""

from datetime import date

from django.utils import timezone

from accounts.models import Product
from refinement.models import DebtSnapshot
from refinement.selectors import debt_totals


def debt_snapshot_take(*, product_id: int, today: date | None = None) -> DebtSnapshot:
    """Record today's debt totals of a product; taken again the same day, it is updated (idempotent)."""
    product = Product.objects.get(pk=product_id)
    totals = debt_totals(product=product)
    snapshot, _ = DebtSnapshot.objects.update_or_create(
        product=product,
        date=today or timezone.localdate(),
        defaults={
            "items": totals.items,
            "principal_points": totals.principal_points,
            "unestimated": totals.unestimated,
            "interest_hours": totals.interest_hours,
            "taken_at": timezone.now(),
        },
    )
    return snapshot
