"""Accounts jobs: old idempotency keys removed (hourly, on the beat schedule and the embedded one)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts.idempotency import idempotency_keys_purge


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def purge_idempotency_keys() -> int:
    """Scheduled: delete the keys older than 24 hours."""
    return idempotency_keys_purge()
