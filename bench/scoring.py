"""Scoring benchmark on PostgreSQL (and Redis). Prints JSON (and writes bench/results/scoring.json).

    make bench-scoring                  # or: python bench/scoring.py [--items N] [--edits N]

1. Full recompute of every score of an N-item product (default 100,000; WSJF with breakdowns)
   after a weight change (so every score changes and every row is written), against the floor:
   one set-based SQL UPDATE of the same score column (the WSJF arithmetic in SQL, no
   breakdown), measured in the same run from a vacuumed table, alternating which goes first;
   medians of four runs each, and the ratio.
2. End to end with a real Redis broker and Celery workers: from the first of E item edits
   (default 1,000) to the moment every edited item's score is fresh.

    python bench/scoring.py --jobs [--sizes 100000,1000000] [--runs N]

3. The whole-product score jobs at each size (PostgreSQL only, no broker; JSON to stdout and
   bench/results/scoring_jobs.json). The product is seeded with ``demo_backlog_seed`` (ordered
   items only) at the first size; each larger size is built by copying those rows in SQL
   (INSERT … SELECT, new numbers and fresh rank keys from ``rebalanced_key_sql``), not the ORM.
   Measured from a vacuumed table, medians of ``--runs``:
   - the full recompute after a weight change (every row written), in key-range chunks, with
     the longest chunk transaction (how long a move may wait on its row locks);
   - the floor: ONE UPDATE over the product writing the same columns with the same expressions
     (score, breakdown and time: the identical rows), and, for reference, one UPDATE writing
     only the score (the same WSJF expression);
   - the previous recompute (chunks as lists of 5,000 ids read into Python, ``id = ANY``);
   - the scheduled due-score refresh ten minutes later (creation and SLA times moved back 10
     minutes in SQL): rows written and time, against the previous refresh (every due row written).
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
    parser.add_argument("--jobs", action="store_true", help="measure the whole-product score jobs (mode 3)")
    parser.add_argument("--sizes", default="100000,1000000", help="with --jobs: product sizes, comma-separated")
    parser.add_argument("--seed", type=int, default=100_000, help="with --jobs: items seeded before the SQL copies")
    parser.add_argument("--due-runs", type=int, default=None, help="with --jobs: runs of the due refresh (--runs)")
    args = parser.parse_args()
    if args.jobs:
        jobs_main([int(size) for size in args.sizes.split(",")], args.runs, args.seed, args.due_runs or args.runs)
        return

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


def jobs_main(sizes: list[int], runs: int, seed: int, due_runs: int) -> None:
    setup_django(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_scoring"))
    from django.db import connection, transaction
    from django.db.models import F, Q
    from django.utils import timezone

    from accounts.models import Membership, Product, User
    from backlog import ranking, score_sql, scoring
    from backlog.models import Item
    from backlog.services import scores
    from backlog.services.demo import demo_backlog_seed

    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    base = seed
    demo_backlog_seed(product=product, creators=[owner], count=base, only_ordered=True)
    scores.product_scores_recompute(product_id=product.pk)
    table = Item._meta.db_table

    def sql(statement: str, params=()) -> int:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.rowcount

    def vacuum() -> None:
        sql(f"VACUUM ANALYZE {table}")

    def grow(to: int) -> float:
        """Copy the seeded rows until the product holds ``to`` items: new numbers, unique keys."""
        start = time.perf_counter()
        have = Item.objects.filter(product=product).count()
        copies = (to - have) // base
        copied = [f.column for f in Item._meta.concrete_fields if f.column not in ("id", "number", "rank")]
        columns = ", ".join(copied)
        # Keys of width 5 ('e…') never collide with the seed's narrower ones; the index is unique.
        key = ranking.rebalanced_key_sql(f"(k * {base} + i.number - 1)", 5).replace("%", "%%")
        for k in range(have // base, have // base + copies):  # one statement per copy: bounded transactions
            with transaction.atomic():
                sql(
                    f"INSERT INTO {table} ({columns}, number, rank) "
                    f"SELECT {', '.join('i.' + c for c in copied)}, i.number + k * {base}, {key} "
                    f"FROM {table} i, (SELECT %s AS k) c WHERE i.product_id = %s AND i.number <= {base}",
                    [k, product.pk],
                )
        Product.objects.filter(pk=product.pk).update(last_item_number=to)
        vacuum()
        return time.perf_counter() - start

    def timed(run) -> float:
        vacuum()
        start = time.perf_counter()
        run()
        return time.perf_counter() - start

    changes = iter(range(1, 10_000))

    def weights_change() -> None:
        weight = 1.0 + next(changes) / 100  # every score changes, every row is written
        Product.objects.filter(pk=product.pk).update(
            score_weights={"business_value": weight, "time_criticality": 1.0, "risk_reduction": 1.0}
        )

    def current():
        return Product.objects.get(pk=product.pk)

    def floor_same() -> None:
        p = current()
        params = score_sql.parameters(p.scoring_model, p.score_weights, timezone.now())
        sql(score_sql.statement(p.scoring_model, "i.product_id = %s"), [*params, product.pk])

    def floor_score_only() -> None:
        p = current()
        value = score_sql._STATEMENTS[scoring.WSJF][0]
        params = score_sql.parameters(p.scoring_model, p.score_weights, timezone.now())
        sql(
            f"UPDATE {table} i SET score = {value} FROM ({score_sql._WSJF_PARAMS}) p WHERE i.product_id = %s",
            [*params, product.pk],
        )

    chunks: list[float] = []
    real_score_where = score_sql.score_where

    def timed_score_where(*a, **kw):
        start = time.perf_counter()
        try:
            return real_score_where(*a, **kw)
        finally:
            chunks.append(time.perf_counter() - start)

    score_sql.score_where = timed_score_where

    def legacy(queryset) -> int:
        """The recompute as it was: each chunk's ids read into Python, then ``id = ANY(ids)``, every row written."""
        written, last = 0, 0
        while True:
            with transaction.atomic():
                p = current()
                ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:5000])
                if not ids:
                    return written
                written += real_score_where(
                    "i.id = ANY(%s)", [ids], model=p.scoring_model, weights=p.score_weights, now=timezone.now()
                )
            last = ids[-1]

    def ten_minutes_pass() -> None:
        sql(
            f"UPDATE {table} SET created_at = created_at - interval '10 minutes', "
            "sla_due_at = sla_due_at - interval '10 minutes' WHERE product_id = %s",
            [product.pk],
        )

    def due():
        return Item.objects.filter(product_id=product.pk).filter(
            Q(kind__in=[Item.Kind.DEFECT, Item.Kind.OPERATIONAL], rank__isnull=False)
            | Q(score_computed_at__isnull=True)
            | Q(score_computed_at__lt=F("updated_at"))
        )

    results: dict = {"database": f"PostgreSQL {connection.pg_version // 10000}", "chunk_size": scores.CHUNK_SIZE}
    for size in sizes:
        built = grow(size) if size > Item.objects.filter(product=product).count() else None
        assert Item.objects.filter(product=product).count() == size
        ours, old, same, score_only, longest = [], [], [], [], []
        for run in range(runs):
            order = [("ours", ours), ("same", same), ("old", old), ("score", score_only)]
            if run % 2:
                order.reverse()
            for name, samples in order:
                weights_change()
                if name == "ours":
                    chunks.clear()
                    samples.append(timed(lambda: scores.product_scores_recompute(product_id=product.pk)))
                    longest.append(max(chunks))
                elif name == "same":
                    samples.append(timed(floor_same))
                elif name == "old":
                    samples.append(timed(lambda: legacy(Item.objects.filter(product_id=product.pk))))
                else:
                    samples.append(timed(floor_score_only))
        scores.product_scores_recompute(product_id=product.pk)  # every score fresh with the current weights
        due_rows = due().count()
        refresh, refresh_old, written, written_old, refresh_longest = [], [], [], [], []
        for _ in range(due_runs):
            ten_minutes_pass()
            chunks.clear()
            vacuum()
            start = time.perf_counter()
            written.append(scores.scores_refresh_due(product_id=product.pk))
            refresh.append(time.perf_counter() - start)
            refresh_longest.append(max(chunks))
            ten_minutes_pass()
            vacuum()
            start = time.perf_counter()
            written_old.append(legacy(due()))
            refresh_old.append(time.perf_counter() - start)
        median = statistics.median
        results[str(size)] = {
            "items": size,
            "built_by_sql_copy_seconds": None if built is None else round(built, 1),
            "full_recompute_seconds": round(median(ours), 2),
            "full_recompute_runs": [round(t, 2) for t in ours],
            "full_recompute_longest_chunk_transaction_ms": round(1000 * median(longest), 1),
            "floor_one_update_same_rows_seconds": round(median(same), 2),
            "floor_one_update_same_rows_runs": [round(t, 2) for t in same],
            "ratio_recompute_over_floor": round(median(ours) / median(same), 2),
            "one_update_score_only_seconds": round(median(score_only), 2),
            "ratio_recompute_over_score_only_update": round(median(ours) / median(score_only), 2),
            "previous_recompute_id_lists_seconds": round(median(old), 2),
            "due_refresh": {
                "due_rows": due_rows,
                "rows_written": int(median(written)),
                "seconds": round(median(refresh), 2),
                "runs": [round(t, 2) for t in refresh],
                "longest_chunk_transaction_ms": round(1000 * median(refresh_longest), 1),
                "previous_rows_written": int(median(written_old)),
                "previous_seconds": round(median(refresh_old), 2),
            },
        }
        print(json.dumps(results[str(size)]), flush=True)
    out = json.dumps(results, indent=2)
    print(out)
    (ROOT / "bench" / "results" / "scoring_jobs.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
