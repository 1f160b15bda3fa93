"""A Celery app for tests: the real one, whose scoring fails once when a Redis flag says so.

Start with ``celery -A backlog.tests.flaky_worker worker``. The first ``item_score_refresh``
after ``test:fail-once:score-item`` is set raises a transient database error, as a dropped
connection would; the task's own retry must then finish the job.
"""

import os

import redis
from celery.signals import worker_ready

from config.celery import app

FLAG = "test:fail-once:score-item"

__all__ = ("app",)


@worker_ready.connect
def _fail_once_when_flagged(**kwargs) -> None:
    from django.db import OperationalError

    from backlog.services import scores

    real = scores.item_score_refresh
    flags = redis.Redis.from_url(os.environ["REDIS_URL"])

    def flaky(*, item_id: int):
        if flags.delete(FLAG):
            raise OperationalError("server closed the connection unexpectedly (injected by the test)")
        return real(item_id=item_id)

    scores.item_score_refresh = flaky
