"""Queueing the notification jobs (services and listeners → jobs; tasks → services), always
after the commit that made the change. Nothing here fails the caller: with the broker unreachable
the notice is not queued (logged); e-mails already due are caught up by the schedule."""

import logging

from kombu.exceptions import OperationalError as BrokerUnavailable

from config.celery import app as celery_app

logger = logging.getLogger(__name__)

ITEM_EVENTS = "notifications.tasks.announce_item_events"
SLA_BREACH = "notifications.tasks.announce_sla_breach"


def _send(name: str, *args) -> None:
    try:
        celery_app.tasks[name].delay(*args)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: %s%s not queued.", name, args)


def enqueue_item_events(event_ids: list[int]) -> None:
    """Tell the watchers of these history events (called after the commit)."""
    _send(ITEM_EVENTS, event_ids)


def enqueue_sla_breach(*, item_id: int, target: str, due_at: str, assignee_id: int | None) -> None:
    """Tell the assignee and the watchers of an SLA breach (``due_at`` in ISO 8601)."""
    _send(SLA_BREACH, item_id, target, due_at, assignee_id)
