"""Queueing refinement's background jobs after a commit (services → jobs; tasks → services).

Nothing here fails the caller: with the broker unreachable the notification is not sent (logged).
"""

import logging

from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)


def enqueue_proposal_notification(event: str, object_id: int) -> None:
    from refinement.tasks import notify_proposal_event  # the task imports the services

    try:
        notify_proposal_event.delay(event, object_id)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: the %s notification of %s was not queued.", event, object_id)


def enqueue_comment_notification(comment_id: int) -> None:
    from refinement.tasks import notify_comment

    try:
        notify_comment.delay(comment_id)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: the notifications of comment %s were not queued.", comment_id)
