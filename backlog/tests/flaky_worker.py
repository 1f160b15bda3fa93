"""A Celery app for tests: the real one, with faults a test switches on through Redis flags.

Start with ``celery -A backlog.tests.flaky_worker worker`` (solo or prefork pool).

- ``test:fail-once:score-item``: the next ``item_score_refresh`` raises a transient database
  error, as a dropped connection would; the task's own retry must then finish the job.
- ``test:slow-once:recompute``: the next whole-product recompute first stores its process id
  under ``test:recompute-pid`` and sleeps, so the test can kill that process mid-recompute.
"""

import os
import time

import redis
from celery.signals import worker_process_init, worker_ready

from config.celery import app

FLAG = "test:fail-once:score-item"
SLOW_RECOMPUTE = "test:slow-once:recompute"
RECOMPUTE_PID = "test:recompute-pid"

__all__ = ("app",)


@worker_ready.connect  # the solo pool runs jobs in the main process
@worker_process_init.connect  # the prefork pool in its children
def _install_faults(**kwargs) -> None:
    from django.db import OperationalError

    from backlog.services import scores

    if getattr(scores, "_faults_installed", False):
        return
    scores._faults_installed = True
    flags = redis.Redis.from_url(os.environ["REDIS_URL"])
    real_refresh = scores.item_score_refresh
    real_recompute = scores.product_scores_recompute

    def flaky(*, item_id: int):
        if flags.delete(FLAG):
            raise OperationalError("server closed the connection unexpectedly (injected by the test)")
        return real_refresh(item_id=item_id)

    def slow(*, product_id: int):
        if flags.delete(SLOW_RECOMPUTE):
            flags.set(RECOMPUTE_PID, os.getpid())
            time.sleep(60)  # killed meanwhile
        return real_recompute(product_id=product_id)

    scores.item_score_refresh = flaky
    scores.product_scores_recompute = slow
