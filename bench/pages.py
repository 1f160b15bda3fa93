"""Backlog page benchmark on PostgreSQL. Prints JSON (and writes bench/results/pages.json).

    make bench-pages                    # or: python bench/pages.py [--items N] [--requests R]

On a fresh database with an N-item backlog (default 100,000, scored, suggested positions
stored), as the product owner: the backlog page's first screen (the whole HTML page with the
first 50 rows, reorder controls and all) against the API's first page (50 items as JSON), both
through Django's full request handling in this process, alternating, R requests each after a
warm-up. Reports p50/p99 of each, the queries each runs, and the ratio of the medians.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    setup_django(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_pages"))
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, Product, User
    from backlog.services.demo import demo_backlog_seed
    from backlog.services.scores import product_scores_recompute
    from backlog.services.suggestion import suggested_positions_refresh

    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    demo_backlog_seed(product=product, creators=[owner], count=args.items)
    product_scores_recompute(product_id=product.pk)
    suggested_positions_refresh(product_id=product.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    client = Client()
    client.force_login(owner)
    targets = {
        "backlog_page": f"/p/{product.key}/",
        "api_first_page": f"/api/v1/products/{product.key}/items/",
    }
    queries, sizes = {}, {}
    for name, url in targets.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries[name], sizes[name] = len(captured), len(response.content)
        for _ in range(20):  # warm-up
            client.get(url)

    samples: dict[str, list[float]] = {name: [] for name in targets}
    for n in range(args.requests):
        order = list(targets.items()) if n % 2 == 0 else list(reversed(targets.items()))
        for name, url in order:
            start = time.perf_counter()
            client.get(url)
            samples[name].append((time.perf_counter() - start) * 1000)

    page, api = (statistics.median(samples[name]) for name in targets)
    results = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "items": args.items,
        "rows_per_screen": 50,
        "backlog_page": {
            **percentiles(samples["backlog_page"]),
            "queries": queries["backlog_page"],
            "bytes": sizes["backlog_page"],
        },
        "api_first_page": {
            **percentiles(samples["api_first_page"]),
            "queries": queries["api_first_page"],
            "bytes": sizes["api_first_page"],
        },
        "ratio_page_over_api_p50": round(page / api, 2),
    }
    out = json.dumps(results, indent=2)
    print(out)
    if args.items == 100_000:
        (ROOT / "bench" / "results" / "pages.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
