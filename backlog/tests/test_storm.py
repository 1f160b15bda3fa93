"""A storm: the whole system under mixed writes from several API clients at once.

gunicorn (2 workers), a Celery worker (prefork) and a Redis server this test starts on a port of
its own, against the test database on PostgreSQL. Client threads create, edit, move, block-move,
propose, accept, transition and archive through the API with personal tokens. Then: no 5xx at
all, the order whole (unique keys; every open or in-progress item ranked, nothing else), and
every item scored after its last change within a minute.

In the middle of the storm the test's Redis (broker, cache and throttle counts) is stopped for
``OUTAGE_SECONDS`` and started again: the API keeps answering, the worker reconnects, and the
scheduled refresh (what beat runs every ten minutes) runs once, since jobs queued while the broker
was away were never queued. ``STORM_REDIS_OUTAGE=0`` leaves the outage out.
"""

import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.db.models import F, Q

from accounts.models import Membership
from accounts.services import token_create
from accounts.tests.factories import MembershipFactory
from backlog.models import Item

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 6
STORM_SECONDS = 24
OUTAGE_AFTER_SECONDS = 6
OUTAGE_SECONDS = 10
FRESH_WITHIN_SECONDS = 60
OUTAGE = os.environ.get("STORM_REDIS_OUTAGE", "1") == "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


class RedisServer:
    """A Redis of the test's own (never the machine's shared one), to stop and start at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - the system's redis-server
            [
                shutil.which("redis-server"),
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", str(self.directory), "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        assert wait_until(lambda: _pings(client), 10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.RedisError:
        return False


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Client:
    """One API client: its own keep-alive connection and token; counts answers by status."""

    def __init__(self, port: int, token: str, statuses: Counter, failures: list) -> None:
        self.port, self.token, self.statuses, self.failures = port, token, statuses, failures
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        payload = json.dumps(body) if body is not None else None
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: reconnect once
            try:
                self.connection.request(method, f"/api/v1/{path}", body=payload, headers=headers)
                response = self.connection.getresponse()
                text = response.read()
                break
            except (http.client.HTTPException, OSError) as error:
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    self.failures.append(f"{method} {path}: {error!r}")
                    return 0, {}
        self.statuses[response.status] += 1
        if response.status >= 500:
            self.failures.append(f"{method} {path} {body}: {response.status} {text[:300]!r}")
        try:
            return response.status, json.loads(text) if text else {}
        except ValueError:
            return response.status, {}


def storm_client(index: int, port: int, key: str, owner_token: str, proposer_token: str, seed_ids, until, out):
    statuses, failures = out
    rng = random.Random(index)
    owner = Client(port, owner_token, statuses, failures)
    proposer = Client(port, proposer_token, statuses, failures)
    known = list(seed_ids)
    while time.monotonic() < until:
        roll = rng.random()
        pick = rng.choice(known)
        if roll < 0.15:
            status, body = owner.call(
                "POST",
                f"products/{key}/items/",
                {"kind": "story", "title": f"c{index}-{rng.random():.6f}", "business_value": rng.randint(1, 20)},
            )
            if status == 201:
                known.append(body["id"])
        elif roll < 0.25:
            status, body = proposer.call(
                "POST", f"products/{key}/items/", {"kind": "story", "title": f"p{index}-{rng.random():.6f}"}
            )
            if status == 201:
                known.append(body["id"])
                owner.call("POST", f"items/{body['id']}/accept/", {"to": "top"})  # accepted at once
        elif roll < 0.45:
            owner.call("PATCH", f"items/{pick}/", {"estimate": rng.choice([1, 2, 3, 5, 8, 13])})
        elif roll < 0.60:
            owner.call("POST", f"items/{pick}/move/", {"to": "position", "position": rng.randint(1, 80)})
        elif roll < 0.80:
            block = [str(pk) for pk in rng.sample(known, min(len(known), rng.randint(2, 8)))]
            owner.call("POST", f"products/{key}/items/move/", {"items": block, "to": rng.choice(["top", "bottom"])})
        elif roll < 0.90:
            owner.call("POST", f"items/{pick}/transition/", {"status": rng.choice(["in_progress", "done"])})
        else:
            owner.call("POST", f"items/{pick}/archive/", {"reason": "storm"})


def test_a_storm_of_mixed_writes_keeps_the_order_whole_and_every_score_fresh(tmp_path):
    membership = MembershipFactory(role=Membership.Role.OWNER)
    product, owner = membership.product, membership.user
    proposer = MembershipFactory(product=product, role=Membership.Role.STAKEHOLDER).user
    owner_tokens = [token_create(user=owner, name=f"storm {n}")[1] for n in range(CLIENTS)]
    proposer_tokens = [token_create(user=proposer, name=f"proposals {n}")[1] for n in range(CLIENTS)]
    broker = RedisServer(tmp_path)
    broker.start()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": broker.url,
        "LOG_LEVEL": "ERROR",  # a 4xx is a warning; a 5xx (an error) still shows
        "API_THROTTLE_RATE": "100000/min",  # the storm is about consistency, not the rate limit
    }
    port = free_port()
    bin_dir = Path(sys.executable).parent
    processes = []
    try:
        processes.append(
            subprocess.Popen(  # noqa: S603 - our own app
                [
                    str(bin_dir / "gunicorn"),
                    *("config.wsgi:application", f"--bind=127.0.0.1:{port}", "--workers=2"),
                    *("--log-level=warning", "--no-control-socket"),
                ],
                cwd=ROOT,
                env=env,
            )
        )
        processes.append(
            subprocess.Popen(  # noqa: S603 - our own app
                [
                    *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2"),
                    *("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"),
                ],
                cwd=ROOT,
                env=env,
            )
        )
        setup = Client(port, owner_tokens[0], Counter(), [])
        assert wait_until(lambda: setup.call("GET", f"products/{product.key}/")[0] == 200, 30), "gunicorn did not start"
        seed_ids = [
            setup.call("POST", f"products/{product.key}/items/", {"kind": "story", "title": f"seed {n}"})[1]["id"]
            for n in range(30)
        ]

        statuses: Counter = Counter()
        failures: list[str] = []
        until = time.monotonic() + STORM_SECONDS
        threads = [
            threading.Thread(
                target=storm_client,
                args=(n, port, product.key, owner_tokens[n], proposer_tokens[n], seed_ids, until, (statuses, failures)),
            )
            for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        if OUTAGE:
            time.sleep(OUTAGE_AFTER_SECONDS)
            broker.stop()
            time.sleep(OUTAGE_SECONDS)
            broker.start()
        for thread in threads:
            thread.join()

        assert failures == [], failures[:10]
        assert sum(statuses.values()) > 100, statuses  # on a busy machine; hundreds more on a quiet one
        assert sum(n for status, n in statuses.items() if 200 <= status < 300) > sum(statuses.values()) / 2, statuses

        items = Item.objects.filter(product=product)
        ranks = [rank for rank in items.values_list("rank", flat=True) if rank is not None]
        assert len(ranks) == len(set(ranks))
        assert not items.filter(status__in=Item.ORDERED_STATUSES, rank__isnull=True).exists()
        assert not items.exclude(status__in=Item.ORDERED_STATUSES).filter(rank__isnull=False).exists()

        if OUTAGE:  # what beat runs every ten minutes: the jobs the outage never queued
            from backlog.tasks import refresh_due_scores

            refresh_due_scores.apply()
        stale = items.filter(Q(score_computed_at__isnull=True) | Q(score_computed_at__lt=F("updated_at")))
        assert wait_until(lambda: not stale.exists(), FRESH_WITHIN_SECONDS, step=1), list(
            stale.values_list("number", "status", "updated_at", "score_computed_at")[:10]
        )
        assert all(process.poll() is None for process in processes), "gunicorn or the worker died"
        print(f"storm: {dict(statuses)} answers, {items.count()} items")
    finally:
        for process in processes:
            _stop(process)
        broker.stop()
