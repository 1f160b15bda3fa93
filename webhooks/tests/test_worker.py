"""Durable deliveries with real processes: a Celery worker killed with ``kill -9`` while a delivery
is on the wire, and its Redis restarted empty (every queued message gone): the delivery is still
made, with the same id, by a new worker once its lease ends, handed out by celery beat's sweep."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from standardwebhooks import Webhook

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from backlog.services.items import item_create
from webhooks.models import Delivery
from webhooks.services import endpoint_create

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def processes(redis_server, tmp_path):
    """Start a worker or celery beat (their own process groups, so a kill takes the children too)."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_server.url,
        "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
        "WEBHOOKS_CONNECT_TIMEOUT": "1",
        "WEBHOOKS_READ_TIMEOUT": "3",
        "WEBHOOKS_LEASE_SECONDS": "10",
        "WEBHOOKS_SWEEP_SECONDS": "1",
    }
    started = []

    def start(*args: str) -> subprocess.Popen:
        log = tmp_path / f"{args[0]}-{len(started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603 - our own worker
                [sys.executable, "-m", "celery", "-A", "config", *args, "-l", "info"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log = log
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def test_a_killed_worker_and_an_emptied_redis_lose_no_delivery(
    processes, redis_server, receiver, local_receivers, tmp_path
):
    owner = MembershipFactory(role=Membership.Role.OWNER)
    endpoint = endpoint_create(product=owner.product, actor=owner.user, url=receiver.url, events=["item.created"])
    receiver.answer(200, delay=60)  # the first attempt hangs on the wire until the worker is killed

    worker = processes("worker", "--concurrency=1", "--without-gossip", "--without-mingle")
    processes("beat", "-s", str(tmp_path / "beat-schedule"))
    assert wait_for(lambda: " ready." in worker.log.read_text(), 60), worker.log.read_text()
    item_create(product=owner.product, actor=owner.user, kind="story", title="Survives")
    delivery = Delivery.objects.get()

    assert wait_for(lambda: receiver.requests, 30), worker.log.read_text()
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its child, mid-delivery
    worker.wait(timeout=10)
    redis_server.stop()
    redis_server.start()  # the same port, empty: every queued message is gone
    processes("worker", "--concurrency=1", "--without-gossip", "--without-mingle")

    delivered = wait_for(lambda: Delivery.objects.get(pk=delivery.pk).state == Delivery.State.DELIVERED, 90)
    delivery.refresh_from_db()
    assert delivered, (delivery.state, delivery.attempts, delivery.last_error)
    assert delivery.attempts == 2  # the one cut off counts
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.event_id
    assert Webhook(endpoint.secret).verify(second.body, second.headers)["type"] == "item.created"
    assert [attempt.status_code for attempt in delivery.attempt_log.all()] == [200]
