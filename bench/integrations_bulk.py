"""Bulk edit benchmark on PostgreSQL. Prints JSON (and, run as documented, writes bench/results/integrations_bulk.json).

    make bench-integrations-bulk       # or: python bench/integrations_bulk.py [--items 10000] ...

On a fresh database (``BENCH_DATABASE_URL``, default ``onebacklog_bench_bulk``) with a backlog of
``--items`` ordered items, as the product owner through Django's full request handling (a real API
token, the throttle, the strict input, the error handler), it measures
``POST /api/v1/products/{key}/items/bulk/`` on ``--batch`` (500) random items, ``--runs`` times
each (medians, p99 and the queries of each request):

- labels: add two labels and remove one (the labels of the previous run);
- values: set the business value and the estimate (every item changes, so every item is rescored);
- archive: take the items out of the order (where each stood is recorded).

The baseline is the same label edit as ``--batch`` single ``PATCH /api/v1/items/{ref}/`` requests
(what an integrator did before), timed once. Score jobs are not run during the measurement (the
jobs the edits queue are counted instead): with a broker they go to the worker, and without one
they would run in this process after the response.
"""

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/onebacklog_bench_bulk"


def run(*, items: int = 10_000, batch: int = 500, runs: int = 5, baseline: bool = True, url: str | None = None) -> dict:
    """Build the backlog, measure, and return the figures (see the module's docstring)."""
    import os

    setup_django(url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    from unittest import mock

    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, Product, User
    from accounts.services import token_create
    from backlog import jobs
    from backlog.models import Item, ItemEvent
    from backlog.services.demo import demo_backlog_seed

    rng = random.Random(2026)
    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Bulk benchmark", key="BULK")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    demo_backlog_seed(product=product, creators=[owner], count=items, only_ordered=True)
    _, raw = token_create(user=owner, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url_bulk = f"/api/v1/products/{product.key}/items/bulk/"
    queued: list[str] = []

    def post(body) -> tuple[float, int, dict]:
        cache.clear()  # the throttle's budget: measure the edit, not the rate limit
        reset_queries()  # the query log holds 9,000: counts past it would be wrong
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.post(url_bulk, body, content_type="application/json")
            elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content[:500]
        return elapsed, len(queries), response.json()

    def keys(count: int) -> list[str]:
        """Random open items (in progress ones cannot be archived)."""
        numbers = list(Item.objects.filter(product=product, status="open").values_list("number", flat=True))
        return [f"{product.key}-{number}" for number in rng.sample(numbers, count)]

    results: dict = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "backlog_items": items,
        "batch": batch,
        "runs": runs,
        "operations": {},
    }
    with mock.patch.object(jobs, "_send", lambda name, *args, **kw: queued.append(name) or True):
        # Warm-up: the token's first use, the labels' first creation, the caches of the process.
        post({"items": [{"item": key} for key in keys(batch)], "add_labels": ["bench-0"]})
        cases = {
            "labels": lambda n: {"add_labels": [f"bench-{n}", "triaged"], "remove_labels": [f"bench-{n - 1}"]},
            # A value no item had before (the seed's scale stops at 20): every item changes.
            "values": lambda n: {"set": {"business_value": [1, 2][n % 2], "estimate": 90 + n}},
            "archive": lambda n: {"status": "archived", "reason": "bench"},
        }
        for name, change in cases.items():
            times, counts, changed, jobs_queued = [], [], [], []
            for n in range(1, runs + 1):
                body = {"items": [{"item": key} for key in keys(batch)], **change(n)}
                before = len(queued)
                elapsed, count, answer = post(body)
                times.append(elapsed)
                counts.append(count)
                changed.append(len(answer["changed"]))
                jobs_queued.append(len(queued) - before)
                operation = answer["operation"]
                recorded = ItemEvent.objects.filter(operation=operation).order_by().values("item").distinct().count()
                assert recorded == len(answer["changed"]), (name, recorded, len(answer["changed"]))
            results["operations"][name] = {
                **percentiles(times),
                "runs_ms": [round(value, 1) for value in times],
                "queries": sorted(set(counts)),
                "items_changed": sorted(set(changed)),
                "score_jobs_queued": sorted(set(jobs_queued)),
                "items_per_second": round(batch / (statistics.median(times) / 1000), 1),
            }

        if baseline:
            chosen = keys(batch)
            cache.clear()
            total_queries = 0
            start = time.perf_counter()
            for key in chosen:
                reset_queries()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(f"/api/v1/items/{key}/")
                    labels = sorted({*response.json()["labels"], "single"})
                    patched = client.patch(f"/api/v1/items/{key}/", {"labels": labels}, content_type="application/json")
                assert patched.status_code == 200, patched.content[:300]
                total_queries += len(queries)
                if len(queued) > 10_000:
                    queued.clear()
            elapsed = (time.perf_counter() - start) * 1000
            bulk = results["operations"]["labels"]["median_ms"]
            results["baseline_single_requests"] = {
                "what": f"{batch} × (GET then PATCH /api/v1/items/{{ref}}/ with the labels), one client",
                "total_ms": round(elapsed, 1),
                "requests": 2 * batch,
                "queries": total_queries,
                "ratio_to_bulk_labels_median": round(elapsed / bulk, 1),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000, help="ordered items in the backlog (default 10000)")
    parser.add_argument("--batch", type=int, default=500, help="items per bulk edit (default 500, the most)")
    parser.add_argument("--runs", type=int, default=5, help="timed bulk edits per operation (default 5)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the single-request baseline")
    args = parser.parse_args()
    results = run(items=args.items, batch=args.batch, runs=args.runs, baseline=not args.no_baseline)
    text = json.dumps(results, indent=2)
    print(text)
    if (args.items, args.batch, args.runs, args.no_baseline) == (10_000, 500, 5, False):  # the documented run
        out = ROOT / "bench" / "results" / "integrations_bulk.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text + "\n")


if __name__ == "__main__":
    main()
