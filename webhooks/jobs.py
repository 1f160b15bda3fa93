"""Queueing deliveries: what the services call after a commit. The task bodies are
``webhooks.tasks``; this module imports neither services nor tasks (as ``backlog.jobs``).

With a broker each new delivery is handed to a worker after the commit; nothing else relies on
the broker: every delivery is a row with its next attempt time, and the scheduled sweep hands out
the due ones (retries, and anything a dead worker or a lost message left behind). In process
(the embedded default) nothing is sent on the request's thread: the embedded schedule's sweep
sends them, so a slow receiver never slows a request.
"""

import logging

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from backlog.jobs import in_process
from config.celery import app as celery_app
from webhooks.models import Delivery

logger = logging.getLogger(__name__)

DELIVER = "webhooks.tasks.deliver"


def send_delivery(delivery_id: int, attempts: int) -> bool:
    """Hand attempt ``attempts + 1`` of a delivery to a worker now; False if the broker is away."""
    try:
        celery_app.tasks[DELIVER].delay(delivery_id, attempts)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: delivery %s waits for the sweep.", delivery_id)
        return False
    return True


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """After the commit, hand new deliveries to the workers (with a broker; in process the sweep
    sends them)."""
    if in_process() or not delivery_ids:
        return

    def hand_out() -> None:
        for index, pk in enumerate(delivery_ids):
            if not send_delivery(pk, 0):
                # These wait for the sweep: due now, not after the hand-out lease.
                Delivery.objects.filter(pk__in=delivery_ids[index:], attempts=0).update(next_attempt_at=timezone.now())
                return

    transaction.on_commit(hand_out, robust=True)
