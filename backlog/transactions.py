"""Retrying a service's transaction when the database gave it up to break a conflict.

PostgreSQL aborts one transaction of a deadlock (``40P01``) or of a serialization failure
(``40001``); the other one goes on. The aborted one did nothing, so running it again is safe and
almost always succeeds: that is what a person would do, and no request should answer 500 for it.
"""

import logging
import random
import time
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
