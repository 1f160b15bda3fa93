"""Service-queue jobs: clocks checked on the schedule, priorities recalculated after the
thresholds change, causes' incident interest recounted. Each takes
ids and calls a service; ``service.jobs`` queues them."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from service.services import incidents, priorities, tickets

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def recalculate_priorities(product_id: int) -> int:
    return priorities.priorities_recalculate(product_id=product_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def refresh_cause_interest(item_id: int) -> None:
    incidents.cause_interest_refresh(item_id=item_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def refresh_causes() -> int:
    """Scheduled: the hours lost per sprint slide with time."""
    return incidents.causes_refresh()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def check_clocks() -> int:
    """Scheduled: record the SLA breaches that time has brought, and rescore those items."""
    return tickets.clocks_check()
