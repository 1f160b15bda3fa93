"""Webhook delivery benchmark on PostgreSQL, Redis and real Celery workers. Prints JSON (and
writes bench/results/integrations_webhooks.json).

    make bench-integrations-webhooks    # or: python bench/integrations_webhooks.py [--deliveries N]

A real HTTP receiver (``http.server`` in threads, in this process, on 127.0.0.1) verifies every
request's signature with the ``standardwebhooks`` package and answers 500 to the first attempt of
every tenth event (by order of first arrival), 200 otherwise. N items are created through the
services (default 1,000), each an ``item.created`` event for one endpoint; the deliveries go to
2 Celery worker processes (``--workers``) through Redis, and ``celery beat`` runs the sweep that
hands out the retries (every ``WEBHOOKS_SWEEP_SECONDS``, 5 s). Measured: the time from the first
event until every delivery is recorded delivered (the drain), the attempts made, and the latency
from an event's commit to its accepted delivery, for first-attempt successes and for the retried
ones (whose first retry waits 5 s by the back-off schedule). Then, without a broker or other jobs
in the way, 200 more deliveries attempted one after another in this process: the wall and CPU time
and the queries of one attempt (claim, signed POST, record).

``BENCH_DATABASE_URL`` (a PostgreSQL database this may drop and create) and ``BENCH_REDIS_URL``
(a Redis database this empties) choose where it runs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/onebacklog_bench_webhooks"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"


class FailingReceiver:
    """Answers 500 to the first attempt of every ``fail_every``-th event, 200 to everything else."""

    def __init__(self, secret: str, fail_every: int) -> None:
        from standardwebhooks import Webhook

        self.webhook = Webhook(secret)
        self.fail_every = fail_every
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {}  # event id -> ordinal of its first arrival
        self.accepted: dict[str, float] = {}  # event id -> when it was answered 200
        self.requests = 0
        self.refused_first = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.answer(body, headers)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, body: bytes, headers: dict) -> int:
        from standardwebhooks.webhooks import WebhookVerificationError

        try:
            self.webhook.verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.bad_signatures += 1
            return 400
        event_id = headers["webhook-id"]
        with self.lock:
            self.requests += 1
            first = event_id not in self.seen
            if first:
                self.seen[event_id] = len(self.seen) + 1
            if first and self.seen[event_id] % self.fail_every == 0:
                self.refused_first += 1
                return 500
            self.accepted.setdefault(event_id, time.time())
            return 200


def _one_process_cost(product, owner, receiver, *, count: int) -> dict:
    """The cost of one delivery attempt (claim, signed POST, record) made one after another in this
    process, without a broker or other jobs in the way: wall and CPU time, and queries."""
    from django.db import connection

    from backlog.services.items import item_create
    from webhooks.models import Delivery
    from webhooks.services import delivery_attempt

    receiver.fail_every = 10**9  # every first attempt accepted
    before = set(Delivery.objects.values_list("pk", flat=True))
    for n in range(count):
        item_create(product=product, actor=owner, kind="story", title=f"Sequential item {n}")
    ids = sorted(set(Delivery.objects.values_list("pk", flat=True)) - before)
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    wall, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        for pk in ids:
            delivery_attempt(delivery_id=pk)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert Delivery.objects.filter(pk__in=ids, state=Delivery.State.DELIVERED).count() == len(ids)
    return {
        "deliveries": len(ids),
        "wall_ms_each": round(wall / len(ids) * 1000, 1),
        "cpu_ms_each": round(cpu / len(ids) * 1000, 1),
        "queries_each": round(queries / len(ids), 1),
    }


def run(
    *,
    deliveries: int = 1_000,
    workers: int = 2,
    fail_every: int = 10,
    database_url: str | None = None,
    redis_url: str | None = None,
    timeout_seconds: float = 600.0,
) -> dict:
    """Deliver ``deliveries`` webhooks through ``workers`` Celery processes; return the figures."""
    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    os.environ["REDIS_URL"] = redis_url  # this process queues to Redis, as the web app does
    os.environ["WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = "true"  # the receiver is on loopback
    url = setup_django(database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    import redis
    from django.conf import settings

    from accounts.models import Membership, Product, User
    from backlog.services.items import item_create
    from webhooks.models import Attempt, Delivery
    from webhooks.services import endpoint_create

    redis.Redis.from_url(redis_url).flushdb()
    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Webhook benchmark", key="HOOK")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    receiver = FailingReceiver("whsec_placeholder", fail_every)  # the secret is set below
    receiver.thread.start()
    endpoint = endpoint_create(product=product, actor=owner, url=receiver.url, events=["item.created"])
    from standardwebhooks import Webhook

    receiver.webhook = Webhook(endpoint.secret)

    # The events first (their deliveries wait in Redis and in the database), then the workers:
    # the drain is timed from starting the worker processes to the last delivery recorded.
    start = time.perf_counter()
    start_wall = time.time()
    for n in range(deliveries):
        item_create(product=product, actor=owner, kind="story", title=f"Webhook benchmark item {n}")
    made = time.perf_counter() - start
    assert Delivery.objects.count() == deliveries

    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"}
    schedule_dir = tempfile.mkdtemp(prefix="bench-webhooks-beat-")
    common = [sys.executable, "-m", "celery", "-A", "config"]
    commands = [
        [*common, "worker", f"--concurrency={workers}", "--without-gossip", "--without-mingle", "-l", "warning"],
        [*common, "beat", "-l", "warning", "-s", str(Path(schedule_dir) / "schedule")],
    ]
    load_before = os.getloadavg()[0]
    drain_start = time.perf_counter()
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in commands
    ]
    try:
        pending = Delivery.objects.exclude(state=Delivery.State.DELIVERED)
        first_attempt = None
        while pending.exists():
            if first_attempt is None and Attempt.objects.exists():
                first_attempt = time.perf_counter() - drain_start
            if time.perf_counter() - drain_start > timeout_seconds:
                raise RuntimeError(f"{pending.count()} deliveries not delivered within {timeout_seconds} s")
            time.sleep(0.05)
        drained = time.perf_counter() - drain_start
        load_after = os.getloadavg()[0]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)

    rows = list(Delivery.objects.values("event_id", "created_at", "attempts", "state"))
    retried = [row for row in rows if row["attempts"] > 1]
    accepted = sorted(receiver.accepted.values())
    # The retried deliveries: from the refused first attempt to the accepted second one.
    attempts = {
        (delivery_id, number): at
        for delivery_id, number, at in Attempt.objects.values_list("delivery__event_id", "number", "started_at")
    }
    retry_lag = [
        (receiver.accepted[row["event_id"]] - attempts[(row["event_id"], 1)].timestamp()) * 1000 for row in retried
    ]
    durations = list(Attempt.objects.values_list("duration_ms", flat=True))
    figures = {
        "deliveries": deliveries,
        "celery_worker_processes": workers,
        "receiver_fails_first_attempt_of_every": fail_every,
        "all_delivered": all(row["state"] == Delivery.State.DELIVERED for row in rows) and len(rows) == deliveries,
        "accepted_by_the_receiver": len(receiver.accepted),
        "bad_signatures": receiver.bad_signatures,
        "attempts": Attempt.objects.count(),
        "requests_received": receiver.requests,
        "first_attempts_refused": receiver.refused_first,
        "retried_deliveries": len(retried),
        "seconds_to_make_the_events": round(made, 2),
        "seconds_to_drain_from_starting_the_workers": round(drained, 2),
        "seconds_until_the_first_attempt": round(first_attempt or 0.0, 2),
        "seconds_to_accept_the_first_attempts": round(accepted[deliveries - len(retried) - 1] - accepted[0], 2),
        "deliveries_per_second_first_attempts": round(
            (deliveries - len(retried)) / max(accepted[deliveries - len(retried) - 1] - accepted[0], 1e-9), 1
        ),
        "sweep_seconds": settings.WEBHOOKS_SWEEP_SECONDS,
        "first_retry_delay_seconds": 5,
        "retry_lag_ms": percentiles(retry_lag) if retry_lag else None,
        "attempt_duration_ms_median": statistics.median(durations) if durations else None,
        # Each item created also queued its rescore: the workers ran those jobs too, from the same queue.
        "other_jobs_queued_with_them": {"backlog.tasks.score_item": deliveries},
        "machine_load_average_1min": {"drain_start": round(load_before, 1), "drain_end": round(load_after, 1)},
        "cpu_cores": os.cpu_count(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_wall)),
    }
    figures["one_process_sequential"] = _one_process_cost(product, owner, receiver, count=min(200, deliveries))
    receiver.server.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (default 2)")
    parser.add_argument("--fail-every", type=int, default=10)
    args = parser.parse_args()
    results = run(deliveries=args.deliveries, workers=args.workers, fail_every=args.fail_every)
    out = json.dumps(results, indent=2)
    print(out)
    if args.deliveries == 1_000 and args.workers == 2:
        (ROOT / "bench" / "results" / "integrations_webhooks.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
