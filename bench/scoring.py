"""Scoring benchmark on PostgreSQL (and Redis). Prints JSON (and writes bench/results/scoring.json).

    make bench-scoring                  # or: python bench/scoring.py [--items N] [--edits N]

1. Full recompute of every score of an N-item product (default 100,000; WSJF with breakdowns)
   after a weight change (so every score changes and every row is written), against the floor:
   one set-based SQL UPDATE of the same score column (the WSJF arithmetic in SQL, no
   breakdown), measured in the same run from a vacuumed table, alternating which goes first;
   medians of four runs each, and the ratio.
2. End to end with a real Redis broker and Celery workers: from the first of E item edits
   (default 1,000) to the moment every edited item's score is fresh.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, setup_django

FLOOR_SQL = """
UPDATE backlog_item SET score = (
    COALESCE(business_value, 0) + COALESCE(time_criticality, 0) + COALESCE(risk_reduction, 0)
)::double precision / GREATEST(COALESCE(estimate, 1), 1)
WHERE product_id = %s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (default 2)")
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()

    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ["REDIS_URL"] = redis_url  # this process enqueues to Redis, as the web app does
    url = setup_django(
        os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_scoring")
    )
    import redis
    from django.db import connection
    from django.db.models import F

    from accounts.models import Membership, Product, User
    from backlog.models import Item
    from backlog.services.demo import demo_backlog_seed
    from backlog.services.items import item_update
    from backlog.services.scores import product_scores_recompute

    redis.Redis.from_url(redis_url).flushdb()
    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    demo_backlog_seed(product=product, creators=[owner], count=args.items)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE backlog_item")

    def vacuum() -> None:
        # Both measurements start from a vacuumed table, so neither pays for the other's dead rows.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE backlog_item")

    def measure_floor() -> float:
        vacuum()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [product.pk])
            assert cursor.rowcount == args.items
        return time.perf_counter() - start

    def measure_recompute(run: int) -> float:
        # A weight change, as when an owner retunes the model: every score changes, every row is written.
        weight = 1.0 + (run + 1) / 10
        Product.objects.filter(pk=product.pk).update(
            score_weights={"business_value": weight, "time_criticality": 1.0, "risk_reduction": 1.0}
        )
        vacuum()
        start = time.perf_counter()
        assert product_scores_recompute(product_id=product.pk) == args.items
        return time.perf_counter() - start

    ours, floor = [], []
    for run in range(args.runs):  # alternate which goes first
        if run % 2:
            ours.append(measure_recompute(run))
            floor.append(measure_floor())
        else:
            floor.append(measure_floor())
            ours.append(measure_recompute(run))
    scored = floor_rows = args.items
    results: dict = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "items": args.items,
        "full_recompute": {
            "items_scored": scored,
            "median_seconds": round(statistics.median(ours), 3),
            "runs": [round(t, 3) for t in ours],
            "writes": "score, breakdown (JSON) and time; chunks of 5,000, each scored by one UPDATE (score_sql.py)",
        },
        "sql_floor": {
            "rows": floor_rows,
            "median_seconds": round(statistics.median(floor), 3),
            "runs": [round(t, 3) for t in floor],
            "writes": "score only, one UPDATE with the WSJF arithmetic in SQL",
        },
    }
    results["ratio_recompute_over_floor"] = round(
        results["full_recompute"]["median_seconds"] / results["sql_floor"]["median_seconds"], 2
    )

    # End to end: real workers, real broker; edits enqueue on commit, as in the web app.
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--concurrency={args.workers}",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)  # let the workers connect
        rng = random.Random(7)
        ids = rng.sample(list(Item.objects.filter(product=product).values_list("id", flat=True)), args.edits)
        start = time.perf_counter()
        for item_id in ids:
            item = Item.objects.select_related("product").get(pk=item_id)
            item_update(item=item, actor=owner, changes={"estimate": rng.choice([1, 2, 3, 5, 8, 13])})
        edited = time.perf_counter() - start
        stale = Item.objects.filter(pk__in=ids).exclude(score_computed_at__gte=F("updated_at"))
        while stale.exists():
            if time.perf_counter() - start > 600:
                raise RuntimeError("scores did not catch up within 10 minutes")
            time.sleep(0.05)
        fresh = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    results["edits_to_fresh_scores"] = {
        "edits": args.edits,
        "celery_worker_processes": args.workers,
        "seconds_to_make_the_edits": round(edited, 2),
        "seconds_until_every_score_is_fresh": round(fresh, 2),
        "lag_after_the_last_edit_seconds": round(fresh - edited, 2),
    }

    out = json.dumps(results, indent=2)
    print(out)
    if args.items == 100_000:
        (ROOT / "bench" / "results" / "scoring.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
