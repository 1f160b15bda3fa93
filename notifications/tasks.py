"""The notification jobs: each takes ids, calls a service, and owns its retries. Queued by
``notifications.jobs`` (and refinement's and the service queue's jobs), after the commit."""

from datetime import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from notifications import services

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def announce_item_events(event_ids: list[int]) -> int:
    """After edits, status changes and splits: tell the items' watchers (and make authors watch)."""
    return services.item_events_announce(event_ids=event_ids)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def announce_sla_breach(item_id: int, target: str, due_at: str, assignee_id: int | None) -> int:
    return services.sla_breach_announce(
        item_id=item_id, target=target, due_at=datetime.fromisoformat(due_at), assignee_id=assignee_id
    )


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def send_email_digests() -> int:
    """Scheduled hourly: the daily digests that are due, and immediate e-mails a job could not send."""
    return services.digests_send() + services.emails_catch_up()
