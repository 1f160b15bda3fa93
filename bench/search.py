"""Full-text search benchmark on PostgreSQL. Prints JSON (and writes bench/results/search.json).

    make bench-search                   # or: python bench/search.py [--items N] [--queries Q]

On a fresh database (``BENCH_DATABASE_URL``, default onebacklog_bench_search), one product of N
items (default 100,000; the demo generator's titles, descriptions and criteria, in bulk) and a
comment on every second item (bulk inserts; the triggers keep the search documents). Then, for
a common term (an area of the product, in about one item in eight) and a rare one (in a dozen
documents), alternating, Q times each after a warm-up:

- **search**: ``search.selectors.search_items``, the first page of 20 ranked hits with their
  highlighted titles and snippets (GIN index scans of the item and comment vectors, ``ts_rank``,
  ``ts_headline`` for the 20);
- **ILIKE**: a plain substring scan over the same text (title, description, acceptance criteria,
  comments), first 20 matches newest first, unranked, no highlights: what a tool without a
  search index runs.

Reports p50/p99 of each, the matches, and the ratio ILIKE ÷ search of the medians.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django

COMMON, RARE = "invoices", "kraken"
RARE_DOCUMENTS = 12
PHRASES = [
    "Checked with support: the customer sees it again after the last release.",
    "Product asked whether this can wait until the next quarter.",
    "The payment provider's sandbox behaves differently from production here.",
    "We could reuse the export job from the reporting area.",
    "Blocked until the platform team upgrades the queue.",
    "Estimate assumes the API contract stays as it is.",
    "Design review done; the mobile app needs its own variant.",
    "Security wants an audit trail entry for every change.",
    "Numbers from last month: about 3 % of sessions hit this path.",
    "Pairing on this tomorrow; see the spike's notes.",
]
AREA_WORDS = ["checkout", "search", "sign-up", "invoices", "reporting", "notifications", "mobile app", "admin console"]

ILIKE = """
    SELECT i.id FROM backlog_item i
     WHERE i.product_id = %(product)s
       AND (i.title ILIKE %(pattern)s OR i.description ILIKE %(pattern)s OR i.acceptance_criteria ILIKE %(pattern)s
            OR EXISTS (SELECT 1 FROM refinement_comment c WHERE c.item_id = i.id AND c.body ILIKE %(pattern)s))
     ORDER BY i.id DESC LIMIT 20
"""
ILIKE_COUNT = ILIKE.replace("SELECT i.id", "SELECT count(*)").replace("ORDER BY i.id DESC LIMIT 20", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    setup_django(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_search"))
    from django.db import connection

    from accounts.models import Membership, Product, User
    from backlog.models import Item
    from backlog.services.demo import demo_backlog_seed
    from refinement.models import Comment
    from search.selectors import search_items

    rng = random.Random(7)
    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    started = time.perf_counter()
    demo_backlog_seed(product=product, creators=[owner], count=args.items)
    items_built = time.perf_counter() - started

    ids = list(Item.objects.filter(product=product).order_by("pk").values_list("pk", flat=True))
    rare_ids = set(rng.sample(ids, RARE_DOCUMENTS))
    started = time.perf_counter()
    batch: list[Comment] = []
    for index, item_id in enumerate(ids):
        if index % 2 and item_id not in rare_ids:
            continue
        words = [rng.choice(PHRASES), f"Touches {rng.choice(AREA_WORDS)} as well.", rng.choice(PHRASES)]
        if item_id in rare_ids:
            words.append(f"The {RARE} migration script covers this one.")
        batch.append(Comment(item_id=item_id, author=owner, body=" ".join(words)))
        if len(batch) == 5_000:
            Comment.objects.bulk_create(batch)
            batch = []
    Comment.objects.bulk_create(batch)
    comments_built = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_relation_size('backlog_item_search'), pg_relation_size('refinement_comment_search')")
        item_index, comment_index = cursor.fetchone()

    products = [product]

    def run_search(term: str) -> int:
        return len(search_items(text=term, products=products, limit=20).hits)

    def run_ilike(term: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(ILIKE, {"product": product.pk, "pattern": f"%{term}%"})
            return len(cursor.fetchall())

    matches = {}
    for term in (COMMON, RARE):
        with connection.cursor() as cursor:
            cursor.execute(ILIKE_COUNT, {"product": product.pk, "pattern": f"%{term}%"})
            matches[term] = cursor.fetchone()[0]
        for _ in range(10):  # warm-up
            run_search(term)
            run_ilike(term)

    samples = {(kind, term): [] for kind in ("search", "ilike") for term in (COMMON, RARE)}
    for n in range(args.queries):
        for term in (COMMON, RARE):
            runs = [("search", run_search), ("ilike", run_ilike)]
            for kind, run in runs if n % 2 == 0 else reversed(runs):
                start = time.perf_counter()
                found = run(term)
                samples[(kind, term)].append((time.perf_counter() - start) * 1000)
                assert found > 0, (kind, term)

    def figures(term: str) -> dict:
        search = statistics.median(samples[("search", term)])
        ilike = statistics.median(samples[("ilike", term)])
        return {
            "matching_items": matches[term],
            "search": percentiles(samples[("search", term)]),
            "ilike": percentiles(samples[("ilike", term)]),
            "ratio_ilike_over_search_p50": round(ilike / search, 2),
        }

    results = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "items": args.items,
        "comments": Comment.objects.count(),
        "page_size": 20,
        "build_seconds": {"items": round(items_built, 2), "comments": round(comments_built, 2)},
        "gin_index_bytes": {"items": item_index, "comments": comment_index},
        "common_term": {"term": COMMON, **figures(COMMON)},
        "rare_term": {"term": RARE, **figures(RARE)},
    }
    out = json.dumps(results, indent=2)
    print(out)
    if args.items == 100_000:
        (ROOT / "bench" / "results" / "search.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
