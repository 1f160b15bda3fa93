from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts.models import Product


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def flag_stale_items() -> int:
    """Scheduled: flag the items nobody touched for their product's stale period."""
    from refinement.services import stale_items_flag

    return sum(stale_items_flag(product_id=pk)[0] for pk in Product.objects.values_list("pk", flat=True))
