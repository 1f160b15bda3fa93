"""Ordering benchmark on PostgreSQL. Prints JSON (and writes bench/results/ordering.json).

    make bench-ordering                # or: python bench/ordering.py [--items N] ...

On a fresh database with an N-item backlog (default 100,000) it measures:
- single moves (to random positions, to the top, to the bottom): median and p99 latency, and
  rows written per move, read from PostgreSQL's own statistics (pg_stat_user_tables);
- the same move to the top done by renumbering the tail, as Taiga and django-ordered-model do
  (one ``UPDATE … SET position = position + 1`` over a copy of the item table with its indexes),
  in the same run, and the ratio;
- the longest key after N adversarial inserts into one gap (each right after the same item, the
  order checked afterwards) and after N random moves: the full-size run of the test suite's
  small-limit property test (backlog/tests/test_ordering.py);
- the time of a full rebalance.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django


def rows_written(cursor) -> int:
    """Rows inserted + updated in backlog_item, as PostgreSQL's statistics count them."""
    cursor.execute("SELECT pg_stat_force_next_flush()")
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute("SELECT n_tup_upd + n_tup_ins FROM pg_stat_user_tables WHERE relname = 'backlog_item'")
    return cursor.fetchone()[0]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000, help="backlog size (default 100,000)")
    parser.add_argument("--moves", type=int, default=300, help="timed moves per kind (default 300)")
    parser.add_argument("--renumber-runs", type=int, default=7, help="timed renumbering moves (default 7)")
    parser.add_argument("--adversarial", type=int, default=None, help="same-gap inserts (default: --items)")
    parser.add_argument("--random-moves", type=int, default=None, help="random moves (default: --items)")
    args = parser.parse_args()
    adversarial = args.items if args.adversarial is None else args.adversarial
    random_moves = args.items if args.random_moves is None else args.random_moves

    setup_django()
    from django.conf import settings
    from django.db import connection

    from accounts.models import Membership, Product, User
    from backlog.models import Item
    from backlog.services.demo import demo_backlog_seed
    from backlog.services.items import item_create
    from backlog.services.ordering import Placement, item_move, order_rebalance

    rng = random.Random(2026)
    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    start = time.perf_counter()
    demo_backlog_seed(product=product, creators=[owner], count=args.items, only_ordered=True)
    seed_seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ids = list(Item.objects.filter(product=product, rank__isnull=False).values_list("id", flat=True))
    ordered_count = len(ids)
    results: dict = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "backlog_items": args.items,
        "ordered_items": ordered_count,
        "seed_seconds": round(seed_seconds, 2),
        "key_max_length_setting": settings.ORDER_KEY_MAX_LENGTH,
    }

    def load(pk: int) -> Item:
        return Item.objects.select_related("product").get(pk=pk)

    def measure_moves(name: str, placement_for) -> None:
        for _ in range(10):  # warm-up
            item_move(item=load(rng.choice(ids)), actor=owner, to=placement_for())
        samples = []
        with connection.cursor() as cursor:
            before = rows_written(cursor)
        for _ in range(args.moves):
            item = load(rng.choice(ids))
            placement = placement_for()
            samples.append(
                timed(lambda item=item, placement=placement: item_move(item=item, actor=owner, to=placement))
            )
        with connection.cursor() as cursor:
            after = rows_written(cursor)
        results[name] = {**percentiles(samples), "item_rows_written_per_move": round((after - before) / args.moves, 3)}

    measure_moves("move_before_random_item", lambda: Placement.before(rng.choice(ids)))
    measure_moves("move_to_random_position_n", lambda: Placement.at(rng.randint(1, ordered_count)))
    measure_moves("move_to_top", Placement.top)
    measure_moves("move_to_bottom", Placement.bottom)

    # The baseline: renumbering the tail on a copy of the item table with the same indexes.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_renumber (LIKE backlog_item INCLUDING ALL)")
        cursor.execute("ALTER TABLE bench_renumber ADD COLUMN position integer")
        cursor.execute(
            "INSERT INTO bench_renumber SELECT *, row_number() OVER (ORDER BY rank) FROM backlog_item "
            "WHERE product_id = %s AND rank IS NOT NULL",
            [product.pk],
        )
        cursor.execute("CREATE INDEX bench_renumber_position ON bench_renumber (product_id, position)")
        cursor.execute("VACUUM ANALYZE bench_renumber")
        samples, rows = [], []
        for _ in range(args.renumber_runs):
            cursor.execute("SELECT id, position FROM bench_renumber ORDER BY position DESC LIMIT 1")
            last_id, last_position = cursor.fetchone()
            start = time.perf_counter()
            with connection.constraint_checks_disabled():
                cursor.execute("BEGIN")
                cursor.execute(
                    "UPDATE bench_renumber SET position = position + 1 WHERE product_id = %s AND position < %s",
                    [product.pk, last_position],
                )
                shifted = cursor.rowcount
                cursor.execute("UPDATE bench_renumber SET position = 1 WHERE id = %s", [last_id])
                cursor.execute("COMMIT")
            samples.append((time.perf_counter() - start) * 1000)
            rows.append(shifted + 1)
        cursor.execute("DROP TABLE bench_renumber")
    results["renumber_move_to_top_baseline"] = {**percentiles(samples), "rows_written_per_move": max(rows)}
    results["ratio_renumber_over_move_to_top"] = round(
        results["renumber_move_to_top_baseline"]["median_ms"] / results["move_to_top"]["median_ms"], 1
    )

    def longest_key() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(length(rank)) FROM backlog_item WHERE product_id = %s", [product.pk])
            return cursor.fetchone()[0]

    start = time.perf_counter()
    order_rebalance(product=product)
    results["rebalance"] = {"items": ordered_count, "seconds": round(time.perf_counter() - start, 3)}
    results["rebalance"]["longest_key_after"] = longest_key()

    # Random moves (a random item before or after another), then adversarial inserts into one
    # gap (each right after the same item).
    start = time.perf_counter()
    for _ in range(random_moves):
        item_id, anchor_id = rng.sample(ids, 2)
        placement = Placement.before(anchor_id) if rng.random() < 0.5 else Placement.after(anchor_id)
        item_move(item=load(item_id), actor=owner, to=placement)
    results["random_moves"] = {
        "moves": random_moves,
        "seconds": round(time.perf_counter() - start, 1),
        "longest_key_after": longest_key(),
    }

    anchor = Item.objects.filter(product=product, rank__isnull=False).order_by("rank")[ordered_count // 2]
    successor = Item.objects.filter(product=product, rank__gt=anchor.rank).order_by("rank").first()
    with connection.cursor() as cursor:
        before = rows_written(cursor)
    start = time.perf_counter()
    longest_seen = 0
    for n in range(adversarial):
        item = item_create(
            product=product, actor=owner, kind="story", title=f"wedge {n}", placement=Placement.after(anchor)
        )
        longest_seen = max(longest_seen, len(item.rank))
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        after = rows_written(cursor)
    anchor.refresh_from_db()  # respacing may have rewritten its key too
    following = Item.objects.filter(product=product, rank__gt=anchor.rank).order_by("rank")
    wedge = list(following.values_list("pk", flat=True)[: adversarial + 1])
    expected = list(
        Item.objects.filter(product=product, title__startswith="wedge ").order_by("-pk").values_list("pk", flat=True)
    )
    expected += [successor.pk] if successor else []
    results["adversarial_same_gap_inserts"] = {
        "inserts": adversarial,
        "seconds": round(elapsed, 1),
        "longest_key_seen": longest_seen,
        "longest_key_after": longest_key(),
        "item_rows_written_per_insert": round((after - before) / max(adversarial, 1), 2),
        # Each insert right after the anchor, the last one first, then the anchor's old successor.
        "order_intact": wedge == expected,
    }

    out = json.dumps(results, indent=2)
    print(out)
    if args.items == 100_000:
        (ROOT / "bench" / "results" / "ordering.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
