"""Queueing the service queue's jobs: what its services call after a commit. The task bodies are
``service.tasks``, which imports the services; this module imports neither (services → jobs,
tasks → services), as ``backlog.jobs``. Nothing here fails the caller: with the broker
unreachable the job is not queued and the schedule catches up."""

import logging

from celery import current_app
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

RECALCULATE_PRIORITIES = "service.tasks.recalculate_priorities"
REFRESH_CAUSE_INTEREST = "service.tasks.refresh_cause_interest"


def _send(name: str, *args) -> None:
    try:
        current_app.tasks[name].delay(*args)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: %s%s not queued; the schedule will catch up.", name, args)


def enqueue_priorities_recalculate(product_id: int) -> None:
    """Recalculate a product's ticket priorities (after its impact thresholds changed)."""
    _send(RECALCULATE_PRIORITIES, product_id)


def enqueue_cause_interest(item_id: int) -> None:
    """Recount a cause's incident interest (after an incident was linked or its hours changed)."""
    _send(REFRESH_CAUSE_INTEREST, item_id)
