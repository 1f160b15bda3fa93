"""Intake benchmark on PostgreSQL, served by gunicorn. Prints JSON (and writes bench/results/intake.json).

    make bench-intake                   # or: python bench/intake.py [--tickets T] [--fingerprints F] ...

1. Surge: S concurrent senders (default 8) post T tickets (default 5,000) over F fingerprints
   (default 50) to the intake endpoint with an intake token and an Idempotency-Key each, against
   gunicorn. Reports throughput and p50/p99 latency, then what was stored: items and occurrences
   (F items holding T occurrences), duplicates (two open tickets with one fingerprint: 0),
   errors (0), and the rows written per ticket.
2. One fingerprint: a surge of 500 tickets of one user each, sent one by one, folds into one item
   that moves up (P4 to P3 as its affected users pass the medium threshold); rows written by table.
3. The queue page: its first screen with N open operational items (default 10,000) among a
   backlog of 2·N, against the backlog page's first screen, in-process, R requests each.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django
from api import wait_for_port

PORT = 8765
TABLES = ("backlog_item", "service_ticket", "service_occurrence", "backlog_itemevent", "accounts_idempotencykey")


def rows(connection) -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def surge(product_key: str, token: str, *, tickets: int, fingerprints: int, senders: int) -> dict:
    samples: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def sender(index: int) -> None:
        for n in range(index, tickets, senders):
            body = {
                "title": f"Alert {n % fingerprints}",
                "queue": "incidents",
                "urgency": "medium",
                "affected_users": 1,
                "fingerprint": f"alert-{n % fingerprints}",
                "external_ref": f"MON-{n}",
            }
            status, elapsed = post(product_key, token, body)
            with lock:
                (samples if status in (200, 201) else errors).append(elapsed if status in (200, 201) else status)

    started = time.perf_counter()
    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    stats = percentiles(samples) if samples else {"n": 0, "median_ms": None, "p99_ms": None}
    return {
        "senders": senders,
        "tickets": tickets,
        "fingerprints": fingerprints,
        "seconds": round(wall, 2),
        "per_second": round(len(samples) / wall, 1),
        "p50_ms": stats["median_ms"],
        "p99_ms": stats["p99_ms"],
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
    }


def post(product_key: str, token: str, body: dict) -> tuple[int, float]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    start = time.perf_counter()
    conn.request("POST", f"/api/v1/products/{product_key}/intake/", body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - start) * 1000
    conn.close()
    return response.status, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--fingerprints", type=int, default=50)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--one-surge", type=int, default=500, help="tickets of the one-fingerprint surge")
    parser.add_argument("--open-items", type=int, default=10_000, help="open operational items for the page")
    parser.add_argument("--requests", type=int, default=50, help="page requests each")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["API_INTAKE_THROTTLE_RATE"] = "100000000/min"  # measure intake, not the throttle
    sys.path.insert(0, str(ROOT))
    url = setup_django(
        os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_intake")
    )

    from django.db import connection

    from accounts.models import Membership, Product, User
    from service.services.queues import queue_create
    from service.services.tokens import intake_token_create

    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    queue_create(product=product, actor=owner, name="Incidents", slug="incidents", owner=owner)
    _, token = intake_token_create(product=product, actor=owner, name="bench")
    results: dict = {"database": "PostgreSQL", "server": f"gunicorn, {args.workers} sync workers"}
    results["queries_per_intake"] = queries_per_intake(product.key, token)
    connection.close()

    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "bench.wsgi:application",
            f"--bind=127.0.0.1:{PORT}",
            f"--workers={args.workers}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for_port(PORT)
        for _ in range(args.workers * 2):  # warm every worker (no title: a 400, nothing stored)
            post(product.key, token, {"queue": "incidents"})
        before = rows(connection)
        results["surge"] = surge(
            product.key, token, tickets=args.tickets, fingerprints=args.fingerprints, senders=args.senders
        )
        after = rows(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT fingerprint FROM service_ticket t JOIN backlog_item i ON i.id = t.item_id"
                " WHERE i.status IN ('proposed', 'open', 'in_progress') GROUP BY fingerprint HAVING count(*) > 1) d"
            )
            duplicates = cursor.fetchone()[0]
            cursor.execute("SELECT coalesce(sum(occurrence_count), 0) FROM service_ticket")
            counted = cursor.fetchone()[0]
        written = {table: after[table] - before[table] for table in TABLES}
        results["surge"].update(
            {
                "items": written["backlog_item"],
                "occurrences": written["service_occurrence"],
                "occurrences_counted_on_items": counted,
                "duplicates": duplicates,
                "rows_inserted": written,
                "rows_inserted_per_ticket": round(sum(written.values()) / args.tickets, 2),
            }
        )

        # One fingerprint, one sender: the item moves up.
        before = rows(connection)
        body = {"title": "Checkout 502", "queue": "incidents", "urgency": "medium", "affected_users": 1}
        samples = []
        for _ in range(args.one_surge):
            status, elapsed = post(product.key, token, {**body, "fingerprint": "checkout-502"})
            assert status in (200, 201), status
            samples.append(elapsed)
        after = rows(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.itil_priority, t.occurrence_count, t.affected_users FROM service_ticket t "
                "JOIN backlog_item i ON i.id = t.item_id WHERE t.fingerprint = 'checkout-502'"
            )
            priority, occurrences, users = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM backlog_itemevent e JOIN service_ticket t ON t.item_id = e.item_id "
                "WHERE t.fingerprint = 'checkout-502' AND e.type = 'updated' AND e.data -> 'changes' ? 'itil_priority'"
            )
            priority_changes = cursor.fetchone()[0]
        stats = percentiles(samples)
        results["one_fingerprint"] = {
            "tickets": args.one_surge,
            "p50_ms": stats["median_ms"],
            "p99_ms": stats["p99_ms"],
            "rows_inserted": {table: after[table] - before[table] for table in TABLES},
            "item": {
                "priority": f"P{priority}",
                "occurrences": occurrences,
                "affected_users": users,
                "priority_changes": priority_changes,
            },
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    connection.close()
    results["queue_page"] = queue_page(product, owner, open_items=args.open_items, requests=args.requests)

    out = json.dumps(results, indent=2)
    print(out)
    if args.tickets == 5000 and args.open_items == 10_000:
        (ROOT / "bench" / "results" / "intake.json").write_text(out + "\n")


def queries_per_intake(product_key: str, token: str) -> dict[str, int]:
    """The queries of one intake, in-process (the server's code path): a new ticket, a folded one,
    a replayed Idempotency-Key. The probe's rows are removed afterwards."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import IdempotencyKey
    from backlog.models import Item

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"title": "Probe", "queue": "incidents", "urgency": "low", "affected_users": 1, "fingerprint": "probe"}
    counts = {}
    for name, key in (("new", "probe-1"), ("folded", "probe-2"), ("replayed", "probe-2")):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                f"/api/v1/products/{product_key}/intake/",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=key,
            )
        assert response.status_code in (200, 201), response.content[:300]
        counts[name] = len(captured)
    Item.objects.filter(ticket__fingerprint="probe").delete()
    IdempotencyKey.objects.all().delete()
    return counts


def queue_page(product, owner, *, open_items: int, requests: int) -> dict:
    """The queue page's first screen with ``open_items`` open operational items, against the
    backlog page's, both in-process through Django's full request handling, alternating."""
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from backlog.models import Item
    from backlog.services.demo import demo_backlog_seed
    from service.models import Queue, Ticket

    # The backlog: 2·N generated items, of which N become open operational tickets (set-based).
    demo_backlog_seed(product=product, creators=[owner], count=2 * open_items, only_ordered=True)
    queues = [
        Queue.objects.get_or_create(product=product, slug=slug, defaults={"name": slug.title(), "owner": owner})[0]
        for slug in ("access", "database", "infrastructure")
    ]
    chosen = list(
        Item.objects.filter(product=product, ticket__isnull=True, rank__isnull=False)
        .order_by("number")
        .values_list("pk", flat=True)[: 2 * open_items : 2]
    )
    now = timezone.now()
    levels = ("high", "medium", "low")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE backlog_item SET kind = 'operational', severity = '', interest_hours = NULL, timebox_days = NULL,"
            " question = '', impact = (ARRAY['high','medium','low'])[1 + id %% 3],"
            " urgency = (ARRAY['high','medium','low'])[1 + (id / 3) %% 3],"
            " itil_priority = 1 + id %% 3 + (id / 3) %% 3,"
            " sla_due_at = %s + (id %% 5000) * interval '1 minute' WHERE id = ANY(%s)",
            [now, chosen],
        )
    tickets = [
        Ticket(
            item_id=pk,
            product=product,
            queue=queues[pk % 3],
            fingerprint=f"fp-{pk}",
            affected_users=pk % 2000,
            priority_why={"formula": f"impact {levels[pk % 3]} × urgency {levels[(pk // 3) % 3]}"},
            running_since=now,
            response_due_at=now + timedelta(minutes=pk % 5000),
            resolution_due_at=now + timedelta(minutes=pk % 5000),
        )
        for pk in chosen
    ]
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    client = Client()
    client.force_login(owner)
    targets = {"queue_page": f"/p/{product.key}/service/", "backlog_page": f"/p/{product.key}/"}
    queries = {}
    for name, url in targets.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries[name] = len(captured)
        for _ in range(5):
            client.get(url)
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(requests):
        for name, url in targets.items():
            start = time.perf_counter()
            client.get(url)
            samples[name].append((time.perf_counter() - start) * 1000)
    stats = {name: percentiles(values) for name, values in samples.items()}
    return {
        "open_operational_items": len(chosen),
        "backlog_items": Item.objects.filter(product=product, rank__isnull=False).count(),
        "requests_each": requests,
        "queries": queries,
        **{f"{name}_p50_ms": stats[name]["median_ms"] for name in targets},
        **{f"{name}_p99_ms": stats[name]["p99_ms"] for name in targets},
        "ratio_p50": round(stats["queue_page"]["median_ms"] / stats["backlog_page"]["median_ms"], 2),
    }


if __name__ == "__main__":
    main()
