"""Service-queue jobs: clocks checked on the schedule, priorities recalculated after the
thresholds change, old idempotency keys removed. Each takes ids and calls a service."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError)


def enqueue_priorities_recalculate(product_id: int) -> None:
    """Queue the recalculation of a product's ticket priorities (never fails the caller: the
    clock check on the schedule catches up)."""
    try:
        recalculate_priorities.delay(product_id)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: priorities of product %s not recalculated now.", product_id)


def enqueue_cause_interest(item_id: int) -> None:
    """Queue a recount of a cause's incident interest (the hourly refresh catches up without a broker)."""
    try:
        refresh_cause_interest.delay(item_id)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: incident interest of item %s not refreshed now.", item_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def refresh_cause_interest(item_id: int) -> None:
    from service.services.incidents import cause_interest_refresh

    cause_interest_refresh(item_id=item_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def refresh_causes() -> int:
    """Scheduled: the hours lost per sprint slide with time."""
    from service.services.incidents import causes_refresh

    return causes_refresh()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def recalculate_priorities(product_id: int) -> int:
    from service.services.priorities import priorities_recalculate

    return priorities_recalculate(product_id=product_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def check_clocks() -> int:
    """Scheduled: record the SLA breaches that time has brought, and rescore those items."""
    from service.services.tickets import clocks_check

    return clocks_check()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def purge_idempotency_keys() -> int:
    from service.services.idempotency import idempotency_keys_purge

    return idempotency_keys_purge()
