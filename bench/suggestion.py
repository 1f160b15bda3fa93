"""Suggested-order benchmark on PostgreSQL. Prints JSON (and writes bench/results/suggestion.json).

    python bench/suggestion.py [--items N]      # BENCH_DATABASE_URL names the (fresh) database

On a fresh database with an N-item backlog (default 100,000, seeded in bulk, every item ordered),
with 40 proposals and 50 open blocking links, it measures:
- the stored suggested positions' refresh (the job): its time and the peak of the memory Python
  allocated meanwhile (tracemalloc, a separate run), from nothing stored and after 100 rescores;
- the requests that show or use the suggestion, each the median of a few runs: the suggested-order
  API and page, the review queue (page and API), applying the suggestion to 10 selected items,
  and the backlog page while the stored positions are marked stale.
"""

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000, help="backlog size (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per request (default 5)")
    parser.add_argument("--reuse", action="store_true", help="measure the backlog a previous run left (no seeding)")
    args = parser.parse_args()

    if args.reuse:
        import os

        import django

        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        sys.path.insert(0, str(ROOT))
        django.setup()
    else:
        setup_django()
    from django.db import connection

    from accounts.models import Membership, Product, User
    from backlog.models import Item, ItemLink
    from backlog.services.demo import demo_backlog_seed

    rng = random.Random(2026)
    if args.reuse:
        return measure(args, Product.objects.get(key="BENCH"), User.objects.get(username="bench-owner"), rng, 0.0)
    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    start = time.perf_counter()
    demo_backlog_seed(product=product, creators=[owner], count=args.items, only_ordered=True)
    seed_seconds = time.perf_counter() - start
    ids = list(Item.objects.filter(product=product, rank__isnull=False).order_by("rank").values_list("id", flat=True))
    # 40 proposals (unordered, scored) for the review queue.
    number = Item.objects.filter(product=product).order_by("-number").values_list("number", flat=True)[0]
    Item.objects.bulk_create(
        Item(
            product=product,
            number=number + n + 1,
            kind="story",
            title=f"Proposal {n}",
            status="proposed",
            score=rng.uniform(0, 20),
            created_by=owner,
        )
        for n in range(40)
    )
    # 50 open blocking links between random ordered items.
    pairs = set()
    while len(pairs) < 50:
        a, b = rng.sample(range(len(ids)), 2)
        pairs.add((ids[a], ids[b]))
    ItemLink.objects.bulk_create(
        ItemLink(product=product, source_id=a, target_id=b, kind=ItemLink.Kind.BLOCKS) for a, b in pairs
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    measure(args, product, owner, rng, seed_seconds)


def measure(args, product, owner, rng, seed_seconds: float) -> None:
    from django.db import connection
    from django.test import Client

    from backlog.models import Item, StaleSuggestions
    from backlog.services import suggestion

    ids = list(Item.objects.filter(product=product, rank__isnull=False).order_by("rank").values_list("id", flat=True))
    results: dict = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "ordered_items": len(ids),
        "seed_seconds": round(seed_seconds, 2),
    }

    def refresh() -> tuple[float, int]:
        begin = time.perf_counter()
        written = suggestion.suggested_positions_refresh(product_id=product.pk)
        return round(time.perf_counter() - begin, 3), written

    def refresh_peak_mb() -> float:
        tracemalloc.start()
        suggestion.suggested_positions_refresh(product_id=product.pk)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return round(peak / 2**20, 1)

    Item.objects.filter(product=product).update(suggested_position=None)
    seconds, written = refresh()
    results["refresh_from_nothing"] = {"seconds": seconds, "rows_written": written}
    for pk in rng.sample(ids, 100):
        Item.objects.filter(pk=pk).update(score=rng.uniform(0, 20))
    seconds, written = refresh()
    results["refresh_after_100_rescores"] = {"seconds": seconds, "rows_written": written}
    seconds, written = refresh()
    results["refresh_nothing_changed"] = {"seconds": seconds, "rows_written": written}
    Item.objects.filter(product=product).update(suggested_position=None)
    results["refresh_from_nothing"]["python_peak_mb"] = refresh_peak_mb()

    client = Client()
    client.force_login(owner)

    def request_ms(method: str, url: str, data=None, before=None) -> dict:
        """Median time of ``runs`` requests, then one more under tracemalloc for the peak (it slows
        Python down, so it is kept out of the timed runs)."""

        def send():
            if before:
                before()
            response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
            assert response.status_code in (200, 302), (url, response.status_code)

        samples = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            send()
            samples.append((time.perf_counter() - begin) * 1000)
        tracemalloc.start()
        send()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return {"median_ms": round(statistics.median(samples), 1), "python_peak_mb": round(peak, 1)}

    key = product.key
    results["requests"] = {
        "suggested_order_api": request_ms("get", f"/api/v1/products/{key}/suggested-order/"),
        "suggested_page": request_ms("get", f"/p/{key}/suggested/"),
        "review_queue_page": request_ms("get", f"/p/{key}/review/"),
        "review_queue_api": request_ms("get", f"/api/v1/products/{key}/review-queue/"),
        "apply_to_10_selected": request_ms("post", f"/p/{key}/suggested/", {"items": rng.sample(ids, 10)}),
        "backlog_page_stale": request_ms(
            "get", f"/p/{key}/", before=lambda: StaleSuggestions.objects.get_or_create(product_id=product.pk)
        ),
    }
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results" / "suggestion.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
