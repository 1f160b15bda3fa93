"""Background jobs. Each takes ids, loads, calls a service, and owns its retries.

Without ``REDIS_URL`` they run in-process when enqueued (eager); with it a worker runs them.
Score jobs are enqueued after the transaction commits, and coalesce: while one is queued for an
item, further edits of it enqueue nothing (the queued job reads the latest inputs).
"""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models.functions import Length
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import RedisError

from accounts.models import Product
from backlog.models import Item, StaleSuggestions

# The services enqueue these tasks, so the tasks import the services when they run.

logger = logging.getLogger(__name__)

PENDING = "backlog:score-pending:{}"
PENDING_SECONDS = 600  # a lost job frees its item after this; the schedule catches up anyway
# Keys longer than this get the whole product rebalanced by the schedule (the hard limit is
# settings.ORDER_KEY_MAX_LENGTH, which moves never exceed).
REBALANCE_ABOVE = 32
TRANSIENT = (OperationalError, InterfaceError)


def _send(task, *args, countdown: float | None = None) -> bool:
    try:
        if countdown is None:
            task.delay(*args)
        else:
            task.apply_async(args, countdown=countdown)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: %s%s not queued; the schedule will catch up.", task.name, args)
        return False
    return True


def _send_once(key: str, task, *args, countdown: float | None = None) -> None:
    """Queue ``task`` unless one is already queued under ``key`` (the task clears the key when it
    starts). Never fails the caller: with the cache unreachable it queues without coalescing,
    with the broker unreachable it queues nothing and the schedule catches up."""
    try:
        first = cache.add(key, 1, timeout=PENDING_SECONDS)
    except RedisError:
        logger.warning("Cache unreachable: queueing %s%s without coalescing.", task.name, args)
        _send(task, *args, countdown=countdown)
        return
    if first and not _send(task, *args, countdown=countdown):
        cache.delete(key)


def enqueue_item_score(item_id: int) -> None:
    """Queue a rescore of one item, once per burst of edits.

    Never fails the caller: with the broker (or the cache, on the same Redis) unreachable, the
    job is simply not queued and the scheduled refresh catches the item up.
    """
    _send_once(PENDING.format(item_id), score_item, item_id)


def enqueue_product_scores(product_id: int) -> None:
    _send(score_product, product_id)


SUGGESTION_PENDING = "backlog:suggestion-pending:{}"
# Changes come in bursts (a product recompute, many edits, a run of moves): the stored suggested
# positions are refreshed once, this long after the first change of a burst.
SUGGESTION_DELAY_SECONDS = 5


def enqueue_suggestions(product_id: int) -> None:
    """Queue a refresh of the product's stored suggested positions, once per burst of changes.

    Without a broker (jobs in-process) nothing runs now: the product is marked stale in the
    database (every process sees it) and the next page that shows suggested positions refreshes
    them first, once for the whole burst.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        StaleSuggestions.objects.bulk_create([StaleSuggestions(product_id=product_id)], ignore_conflicts=True)
        return
    _send_once(
        SUGGESTION_PENDING.format(product_id), refresh_suggestions, product_id, countdown=SUGGESTION_DELAY_SECONDS
    )


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def score_item(item_id: int) -> float | None:
    from backlog.services.scores import item_score_refresh

    try:
        cache.delete(PENDING.format(item_id))  # edits from now on queue a new job
    except RedisError:
        logger.warning("Cache unreachable: item %s stays marked queued until the mark expires.", item_id)
    score = item_score_refresh(item_id=item_id)
    product_id = Item.objects.filter(pk=item_id).values_list("product_id", flat=True).first()
    if product_id is not None:
        enqueue_suggestions(product_id)
    return score


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def score_product(product_id: int) -> int:
    from backlog.services.scores import product_scores_recompute

    scored = product_scores_recompute(product_id=product_id)
    enqueue_suggestions(product_id)
    return scored


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def refresh_suggestions(product_id: int) -> int:
    from backlog.services.suggestion import suggested_positions_refresh

    try:
        cache.delete(SUGGESTION_PENDING.format(product_id))  # changes from now on queue a new refresh
    except RedisError:
        logger.warning("Cache unreachable: product %s stays marked queued until the mark expires.", product_id)
    return suggested_positions_refresh(product_id=product_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def refresh_due_scores() -> int:
    """Scheduled: rescore what time or missed jobs made stale, product by product."""
    from backlog.services.scores import scores_refresh_due

    total = 0
    for pk in Product.objects.values_list("pk", flat=True):
        total += scores_refresh_due(product_id=pk)
        enqueue_suggestions(pk)
    return total


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def rebalance_long_keys() -> list[int]:
    """Scheduled: rebalance the products whose rank keys grew past the threshold."""
    from backlog.services.ordering import order_rebalance

    long = (
        Item.objects.filter(rank__isnull=False)
        .annotate(key_length=Length("rank"))
        .filter(key_length__gt=REBALANCE_ABOVE)
        .values_list("product_id", flat=True)
        .distinct()
    )
    done = []
    for product_id in list(long):
        try:
            order_rebalance(product=Product.objects.get(pk=product_id))
        except DatabaseError:
            logger.exception("Rebalance of product %s failed; the next run retries.", product_id)
            continue
        done.append(product_id)
    return done
