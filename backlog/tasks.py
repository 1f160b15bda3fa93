"""Background jobs: the task bodies. Each takes ids, loads, calls a service, and owns its retries.

Queueing them is ``backlog.jobs`` (what the services call); this module imports the services,
never the other way round. Registered with the Celery app when Django starts (``apps.py``).
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Product
from backlog import jobs, order_sql
from backlog.models import LONG_KEY, Import
from backlog.services import imports, ordering, scores, suggestion

logger = logging.getLogger(__name__)

# A deadlock or serialization failure is an OperationalError too: retried like a lost connection.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def score_item(item_id: int) -> float | None:
    jobs.item_score_started(item_id)
    refreshed = scores.item_score_refresh(item_id=item_id)
    if refreshed is None:
        return None
    if not refreshed.written:
        # Changed between our read and our write (say, accepted meanwhile): score it again now,
        # even if that change found our mark still set and queued nothing.
        jobs.requeue_item_score(item_id)
    jobs.enqueue_suggestions(refreshed.product_id)
    return refreshed.score


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def score_product(product_id: int) -> int:
    scored = scores.product_scores_recompute(product_id=product_id)
    jobs.enqueue_suggestions(product_id)
    return scored


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def recompute_behind_scores() -> list[int]:
    """Scheduled every few seconds, in process only (the embedded default; with a broker the
    queued ``score_product`` does it, and the due refresh redoes a lost one): recompute the
    products whose scoring version moved ahead of their scores (a model or weight change, an
    import, new impact thresholds)."""
    if not jobs.in_process():
        return []
    behind = Product.objects.filter(scores_version__lt=F("scoring_version")).values_list("pk", flat=True)
    return [product_id for product_id in behind if score_product(product_id) is not None]


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def refresh_suggestions(product_id: int) -> int:
    jobs.suggestions_started(product_id)
    return suggestion.suggested_positions_refresh(product_id=product_id)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def refresh_stale_suggestions() -> list[int]:
    """Scheduled every few seconds: refresh the products whose suggested positions changes marked
    stale (jobs in process, the embedded default: the coalesced ``refresh_suggestions`` is what a
    broker runs). Each mark is taken before its refresh, so a change meanwhile marks it again."""
    done = []
    for product_id in jobs.stale_suggestion_products():
        if jobs.suggestions_stale_take(product_id):
            try:
                suggestion.suggested_positions_refresh(product_id=product_id)
            except Product.DoesNotExist:
                continue
            done.append(product_id)
    return done


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def refresh_due_scores() -> int:
    """Scheduled: redo lost whole-product recomputes, then rescore what time or missed jobs made
    stale, product by product; return the scores written. A product none of whose scores
    changed queues no suggestion refresh."""
    total = 0
    for pk in Product.objects.values_list("pk", flat=True):
        written = scores.scores_refresh_due(product_id=pk)
        if written:
            jobs.enqueue_suggestions(pk)
        total += written
    return total


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def rebalance_long_keys() -> list[int]:
    """Scheduled: make the keys that grew past ``LONG_KEY`` short again, product by product —
    respaced where they are, a window at a time (``order_respace_long_keys``), or when they are
    too many in a row for a window, the whole product rebalanced (``order_rebalance``). The
    products are found from the index of long keys (``item_long_rank``), not by reading every key.
    Returns the products it made short; one being rebalanced already is left to that rebalance."""
    done = []
    for product_id in order_sql.products_with_long_keys(LONG_KEY):
        try:
            product = Product.objects.get(pk=product_id)
            rewritten = ordering.order_respace_long_keys(product=product)
            if rewritten is None:
                rewritten = ordering.order_rebalance(product=product)
        except DatabaseError:
            logger.exception("Rebalance of product %s failed; the next run retries.", product_id)
            continue
        if rewritten is not None:  # None: one still under way from an earlier run
            done.append(product_id)
    return done


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def merge_small_order_blocks() -> int:
    """Scheduled: fold the order-statistics blocks that items leaving the order emptied into their
    neighbours, product by product, each in a short transaction under the product lock."""
    merged = 0
    for product_id in order_sql.products_with_small_blocks():
        with transaction.atomic():
            ordering.lock_product(product_id)
            merged += order_sql.blocks_merge_small(product_id)
    return merged


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def run_import(import_id: int) -> str:
    """Write a confirmed CSV import (all or nothing); its row says how it went."""
    return imports.import_run(import_id=import_id).state


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def run_queued_imports() -> list[int]:
    """Scheduled: run the imports confirmed while the broker was unreachable (queued for over a
    minute), and those a worker that died left running for over an hour."""
    now = timezone.now()
    stuck = Import.objects.filter(state=Import.State.QUEUED, confirmed_at__lt=now - timedelta(minutes=1)) | (
        Import.objects.filter(state=Import.State.RUNNING, started_at__lt=now - timedelta(hours=imports.STUCK_HOURS))
    )
    ran = []
    for pk in stuck.values_list("pk", flat=True):
        imports.import_run(import_id=pk)
        ran.append(pk)
    return ran
