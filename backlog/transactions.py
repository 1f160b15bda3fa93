"""Retrying a service's transaction when the database gave it up to break a conflict.

PostgreSQL aborts one transaction of a deadlock (``40P01``) or of a serialization failure
(``40001``); the other one goes on. The aborted one did nothing, so running it again is safe and
almost always succeeds: that is what a person would do, and no request should answer 500 for it.
"""

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

CONFLICT_CODES = {"40P01", "40001"}  # deadlock detected, serialization failure
ATTEMPTS = 5


def is_conflict(error: BaseException) -> bool:
    return getattr(error.__cause__, "pgcode", None) in CONFLICT_CODES


def retry_on_conflict(service):
    """Run ``service`` again (up to ``ATTEMPTS`` times, after a short random pause) when its
    transaction lost a deadlock or a serialization conflict. Inside an outer transaction nothing
    can be retried here: the error goes up to whoever owns that transaction."""

    @wraps(service)
    def retrying(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return service(*args, **kwargs)
            except OperationalError as error:
                if attempt == ATTEMPTS or connection.in_atomic_block or not is_conflict(error):
                    raise
                logger.warning("%s lost a database conflict (%s); retrying.", service.__name__, error.__cause__.pgcode)
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    return retrying


# Whole-product jobs (the due-score refresh on PostgreSQL, the suggested-position refresh) write
# in chunks, each its own short transaction. After each chunk that wrote rows (but the last) they
# pause ``CHUNK_PAUSE`` times as long as the chunk took (at most ``CHUNK_PAUSE_MOST`` seconds), so
# that their writes, and the write-ahead log those make, leave the database's disk and the
# machine's cores to requests part of the time. On this project's 2-core machine a due refresh
# writing 300,000 of 1,000,000 rows without a pause made PostgreSQL checkpoint every 5 seconds,
# and moves meanwhile had 2-5x their p99 (bench/scale.py; 2.0-2.2x with the pause in a probe). The
# full score recompute does not pause (issue 17 holds it within 2x of one UPDATE's time).
CHUNK_PAUSE = 1.0
CHUNK_PAUSE_MOST = 0.25


class Chunk:
    """What ``paced`` yields: a chunk that wrote nothing, or was the last, says ``skip()``."""

    def __init__(self) -> None:
        self.skipped = False

    def skip(self) -> None:
        self.skipped = True


@contextmanager
def paced(pause: float | None = None) -> Iterator[Chunk]:
    """Time the block (one chunk of a job, its transaction included) and then pause ``pause``
    (default ``CHUNK_PAUSE``) times as long, unless the block called ``skip()`` on what this
    yields. No pause inside a transaction: a caller's transaction keeps its locks through it, and a
    pause would only make it, and them, last longer."""
    start = time.monotonic()
    chunk = Chunk()
    yield chunk
    factor = CHUNK_PAUSE if pause is None else pause
    if factor > 0 and not chunk.skipped and not connection.in_atomic_block:
        time.sleep(min(factor * (time.monotonic() - start), CHUNK_PAUSE_MOST))
