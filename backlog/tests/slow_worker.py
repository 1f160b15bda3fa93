"""A Celery app for the broker-outage test: the real app, plus a job that holds the worker's pool
for a while, as a long recompute does (acknowledged late, like every job here).

Start with ``celery -A backlog.tests.slow_worker worker``.
"""

import time
from pathlib import Path

from config.celery import app

__all__ = ("app", "hold")


@app.task(name="test.hold")
def hold(marker: str, seconds: float) -> None:
    Path(marker).write_text("started")
    time.sleep(seconds)
