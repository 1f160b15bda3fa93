from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts.models import Product
from refinement.services.debt import debt_snapshot_take
from refinement.services.notifications import comment_notify, proposal_notify
from refinement.services.stale import stale_items_flag


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def flag_stale_items() -> int:
    """Scheduled: flag the items nobody touched for their product's stale period."""
    return sum(stale_items_flag(product_id=pk)[0] for pk in Product.objects.values_list("pk", flat=True))


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def snapshot_debt() -> int:
    """Scheduled hourly: record each product's technical debt of the day (idempotent per day)."""
    product_ids = list(Product.objects.values_list("pk", flat=True))
    for pk in product_ids:
        debt_snapshot_take(product_id=pk)
    return len(product_ids)


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def notify_proposal_event(event: str, object_id: int) -> int:
    """After a question, an answer or a decision on a proposal: notify the person it concerns."""
    return proposal_notify(event=event, object_id=object_id)


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def notify_comment(comment_id: int) -> int:
    """After a comment: notify the people it mentions and the item's watchers."""
    return comment_notify(comment_id=comment_id)
