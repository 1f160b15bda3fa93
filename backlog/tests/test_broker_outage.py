"""The worker rides out a broker outage: a real worker (its own process) against a redis-server of
the test's own, which the test stops while the worker holds an unacknowledged job and starts again
on the same port; a job queued afterwards is run by the same worker process."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog.models import Item

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, seconds: float, worker: subprocess.Popen) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and worker.poll() is None:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def worker(redis_server, tmp_path):
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    log = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "backlog.tests.slow_worker", "worker", "--concurrency=1"]
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own worker
            [*command, "--without-gossip", "--without-mingle", "-l", "info"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server.url},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    process.log = log
    assert wait_for(lambda: " ready." in log.read_text(), 60, process), log.read_text()
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_the_worker_rides_out_a_broker_outage(worker, redis_server, tmp_path):
    product = MembershipFactory(role=Membership.Role.OWNER).product
    item = Item.objects.create(product=product, number=1, title="x", business_value=5, status="proposed")
    broker = Celery(broker=redis_server.url, set_as_current=False)

    # The worker holds a job, unacknowledged, when the broker goes away.
    marker = tmp_path / "held"
    broker.send_task("test.hold", args=[str(marker), 3])
    assert wait_for(marker.exists, 30, worker), worker.log.read_text()
    redis_server.stop()
    time.sleep(3)
    redis_server.start()  # the same port, empty

    broker.send_task("backlog.tasks.score_item", args=[item.pk])
    scored = wait_for(lambda: Item.objects.get(pk=item.pk).score == 5.0, 30, worker)

    log = worker.log.read_text()
    assert worker.poll() is None, log  # the worker did not exit
    assert "Unrecoverable error" not in log, log
    assert scored, log
