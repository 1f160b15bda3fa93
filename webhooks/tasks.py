"""The webhook jobs: one delivery attempt, and the sweep that hands out what is due."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks import services

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def deliver(delivery_id: int, attempts: int) -> str | None:
    """Make attempt ``attempts + 1`` of a delivery (nothing if another already made it)."""
    return services.delivery_attempt(delivery_id=delivery_id, expected_attempts=attempts)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def sweep() -> int:
    """Scheduled: hand out the deliveries that are due (send them, in process)."""
    return services.deliveries_due_hand_out()
