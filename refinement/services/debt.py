"""The technical-debt trend: one snapshot per product and day, taken hourly by the schedule.

The latest snapshot is also what the debt report shows of a backlog too large to aggregate on a
request (``refinement.selectors.debt_figures``).
"""

from datetime import date

from django.utils import timezone

from accounts.models import Product
from refinement.models import DebtSnapshot
from refinement.selectors import backlog_composition, debt_totals


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
            "composition": backlog_composition(product=product),
            "taken_at": timezone.now(),
        },
    )
    return snapshot
