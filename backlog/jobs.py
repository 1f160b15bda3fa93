"""Queueing background jobs: what the services call after a commit. The task bodies are
``backlog.tasks``, which imports the services; this module imports neither, so services and
tasks import each other in one direction only (services → jobs, tasks → services).

Jobs are named, not imported: they are registered with the Celery app when Django starts
(``BacklogConfig.ready``). Whether a job runs in this process or on a worker is decided here,
once (``in_process``): without ``REDIS_URL`` Celery runs them eagerly, with it a worker does.

Score jobs coalesce: while one is queued for an item, further edits of it queue nothing (the
queued job reads the latest inputs). Nothing here ever fails the caller: with the broker
unreachable the job is not queued and the schedule catches up.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import RedisError

from backlog.models import StaleSuggestions
from config.celery import app as celery_app

logger = logging.getLogger(__name__)

SCORE_ITEM = "backlog.tasks.score_item"
SCORE_PRODUCT = "backlog.tasks.score_product"
REFRESH_SUGGESTIONS = "backlog.tasks.refresh_suggestions"
RUN_IMPORT = "backlog.tasks.run_import"

PENDING = "backlog:score-pending:{}"
PENDING_SECONDS = 600  # a lost job frees its item after this; the schedule catches up anyway
SUGGESTION_PENDING = "backlog:suggestion-pending:{}"
# Changes come in bursts (a product recompute, many edits, a run of moves): the stored suggested
# positions are refreshed once, this long after the first change of a burst.
SUGGESTION_DELAY_SECONDS = 5
_item_scores_held: ContextVar[bool] = ContextVar("item_scores_held", default=False)


def in_process() -> bool:
    """True when jobs run in the process that queues them (no broker: the embedded default)."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def use_broker(url: str) -> None:
    """Queue jobs on the broker at ``url`` from now on instead of running them in process (for a
    benchmark that measures what a request does when only queueing, as with ``REDIS_URL``)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = url


def _send(name: str, *args, countdown: float | None = None) -> bool:
    task = celery_app.tasks[name]  # ours, not whichever app was made last (celery.current_app)
    try:
        if countdown is None:
            task.delay(*args)
        else:
            task.apply_async(args, countdown=countdown)
    except BrokerUnavailable:
        logger.warning("Broker unreachable: %s%s not queued; the schedule will catch up.", name, args)
        return False
    return True


def _send_once(key: str, name: str, *args, countdown: float | None = None) -> None:
    """Queue ``name`` unless one is already queued under ``key`` (the job clears the key when it
    starts). With the cache unreachable it queues without coalescing."""
    try:
        first = cache.add(key, 1, timeout=PENDING_SECONDS)
    except RedisError:
        logger.warning("Cache unreachable: queueing %s%s without coalescing.", name, args)
        _send(name, *args, countdown=countdown)
        return
    if first and not _send(name, *args, countdown=countdown):
        _forget(key)


def _forget(key: str) -> None:
    try:
        cache.delete(key)
    except RedisError:
        logger.warning("Cache unreachable: %s stays set until it expires.", key)


def enqueue_item_score(item_id: int) -> None:
    """Queue a rescore of one item, once per burst of edits (none inside ``seeding_jobs``)."""
    if _item_scores_held.get():
        return
    _send_once(PENDING.format(item_id), SCORE_ITEM, item_id)


def item_score_started(item_id: int) -> None:
    """Called by the item's job before it reads: edits from now on queue a new job."""
    _forget(PENDING.format(item_id))


def requeue_item_score(item_id: int) -> None:
    """Queue the item's job again at once, whatever the mark says (its write was overtaken)."""
    _forget(PENDING.format(item_id))
    enqueue_item_score(item_id)


def enqueue_product_scores(product_id: int) -> None:
    """Queue a recompute of every score of the product (its scoring version has moved ahead of
    its scores': ``backlog.services.scores``). In process nothing runs now: the embedded
    schedule's ``recompute_behind_scores`` recomputes it within seconds, so no request ever runs
    a whole-product recompute."""
    if in_process():
        return
    _send(SCORE_PRODUCT, product_id)


def enqueue_suggestions(product_id: int) -> None:
    """Queue a refresh of the product's stored suggested positions, once per burst of changes.

    In process nothing runs now: the product is marked stale in the database (every process sees
    it) and the embedded schedule's ``refresh_stale_suggestions`` refreshes it within seconds,
    once for the whole burst. No request ever refreshes: pages show the stored positions and say
    when they are being refreshed (``suggestions_refreshing``).
    """
    if in_process():
        _mark_stale(product_id)
        return
    _send_once(
        SUGGESTION_PENDING.format(product_id), REFRESH_SUGGESTIONS, product_id, countdown=SUGGESTION_DELAY_SECONDS
    )


def _mark_stale(product_id: int) -> None:
    """Mark the product stale (``StaleSuggestions``), unless it is already: one statement, its own
    transaction after a commit (``bulk_create`` would wrap it in a transaction of three)."""
    table = connection.ops.quote_name(StaleSuggestions._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, marked_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [product_id, connection.ops.adapt_datetimefield_value(timezone.now())],
        )


def enqueue_import(import_id: int) -> None:
    """Queue a confirmed CSV import (in process: it runs now, after the commit that confirmed it).
    With the broker unreachable it stays queued and the schedule's ``run_queued_imports`` runs it."""
    _send(RUN_IMPORT, import_id)


def suggestions_started(product_id: int) -> None:
    """Called by the refresh job before it reads: changes from now on queue a new refresh."""
    _forget(SUGGESTION_PENDING.format(product_id))


def suggestions_stale_take(product_id: int) -> bool:
    """Whether changes made the product's suggested positions stale, clearing the mark (a row, see
    ``StaleSuggestions``: whichever process deletes it refreshes, and changes from then on mark the
    product stale again). Called by the scheduled ``refresh_stale_suggestions`` only."""
    return bool(StaleSuggestions.objects.filter(product_id=product_id).delete()[0])


def stale_suggestion_products() -> list[int]:
    """The products marked stale (in process), oldest mark first."""
    return list(StaleSuggestions.objects.order_by("marked_at").values_list("product_id", flat=True))


def suggestions_refreshing(product_id: int) -> bool:
    """Whether the product's stored suggested positions wait for a refresh (changes since): pages
    say so beside them. One look-up by key: the mark's row in process, the coalescing key with a
    broker (unknown, with the cache unreachable: False)."""
    if in_process():
        return StaleSuggestions.objects.filter(product_id=product_id).exists()
    try:
        return cache.get(SUGGESTION_PENDING.format(product_id)) is not None
    except RedisError:
        return False


@contextmanager
def seeding_jobs() -> Iterator[None]:
    """The jobs of a command that builds a product's data and recomputes all its scores at its end
    (the demo seeding commands): no per-item rescoring meanwhile (each edit's job would score an
    item the recompute scores again: about 0.8 s of ``seed_demo --items 100`` when jobs run in
    process), and no in-process jobs' log lines (one per job) or broker chatter in the output."""
    loggers = [logging.getLogger(name) for name in ("celery", "kombu")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    held = _item_scores_held.set(True)
    try:
        yield
    finally:
        _item_scores_held.reset(held)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
