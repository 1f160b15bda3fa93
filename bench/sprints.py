"""Sprint planning and forecast benchmark on PostgreSQL. Prints JSON (and writes bench/results/sprints.json).

    make bench-sprints                 # or: python bench/sprints.py [--sizes 10000,100000] ...

For each backlog size (default 10,000 and 100,000 ordered items, with an allocation and a history
of closed sprints) it measures:
- planning the next sprint (``plan_proposal``: the bounded window from the top of the order, the
  slice and the class targets): median and p99 latency and the queries it runs. It reads only the
  top of the order, so its time does not grow with the backlog below the slice;
- the forecast of every ordered item's sprint (one window-function query over the whole order,
  per-class running sums) without ranges;
- the Monte Carlo ranges (50 % and 85 %) of the top 500 items, seeded.
"""

import argparse
import json
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django

CLOSED_SPRINTS = 8


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return (time.perf_counter() - start) * 1000, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="backlog sizes (default 10000,100000)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of planning per size (default 30)")
    parser.add_argument("--forecast-runs", type=int, default=5, help="timed whole-backlog forecasts (default 5)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Membership, Product, User
    from backlog.models import Item
    from backlog.services.demo import demo_backlog_seed
    from delivery.forecast import RANGE_ITEMS, SAMPLE_SPRINTS, done_points, forecast, monte_carlo
    from delivery.models import DeliverySettings, Sprint, SprintItem, work_class
    from delivery.selectors import PLAN_WINDOW, plan_proposal
    from delivery.services.sprints import sprint_create

    rng = random.Random(2026)
    owner = User.objects.create(username="bench-owner")
    results: dict = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "plan_window": PLAN_WINDOW,
        "monte_carlo_items": RANGE_ITEMS,
        "sizes": {},
    }
    for size in sizes:
        product = Product.objects.create(name=f"Benchmark {size}", key=f"B{size}", sprint_capacity=40)
        Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
        start = time.perf_counter()
        demo_backlog_seed(product=product, creators=[owner], count=size, only_ordered=True)
        seed_seconds = time.perf_counter() - start
        DeliverySettings.objects.create(product=product, defect_share=15, debt_share=20, operational_share=10)
        # A history of closed sprints (for velocity and the Monte Carlo): done items from the bottom.
        today = timezone.localdate()
        done_ids = list(
            Item.objects.filter(product=product).order_by("-rank").values_list("pk", "kind", "estimate")[:200]
        )
        now = timezone.now()
        for number in range(1, CLOSED_SPRINTS + 1):
            start_date = today - timedelta(days=14 * (CLOSED_SPRINTS + 1 - number))
            sprint = Sprint.objects.create(
                product=product,
                number=number,
                name=f"Sprint {number}",
                start_date=start_date,
                end_date=start_date + timedelta(days=13),
                capacity=40,
                state=Sprint.State.CLOSED,
                committed_at=now,
                closed_at=now,
            )
            batch, done_ids = done_ids[: rng.randint(6, 14)], done_ids[14:]
            SprintItem.objects.bulk_create(
                SprintItem(sprint=sprint, item_id=pk, work_class=work_class(kind), points=estimate, done_at=now)
                for pk, kind, estimate in batch
            )
        planned = sprint_create(
            product=product, actor=owner, start_date=today, end_date=today + timedelta(days=13), capacity=40
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        figures: dict = {"ordered_items": product.items.ordered().count(), "seed_seconds": round(seed_seconds, 1)}

        for _ in range(5):  # warm-up
            plan_proposal(sprint=planned)
        samples = []
        for _ in range(args.runs):
            elapsed, plan = timed(lambda planned=planned: plan_proposal(sprint=planned))
            samples.append(elapsed)
        with CaptureQueriesContext(connection) as queries:
            plan = plan_proposal(sprint=planned)
        figures["plan"] = {
            **percentiles(samples),
            "queries": len(queries),
            "items_in_plan": len(plan.items),
            "in": len(plan.added),
            "out": len(plan.dropped),
            "why": plan.why,
        }

        forecast(product=product, ranges_for=0)  # warm-up
        samples = []
        for _ in range(args.forecast_runs):
            elapsed, result = timed(lambda product=product: forecast(product=product, ranges_for=0))
            samples.append(elapsed)
        last = result.rows[-1]
        figures["forecast_all_items"] = {
            **percentiles(samples),
            "items": len(result.rows),
            "velocity": result.velocity,
            "last_item_sprint": last.sprint,
            "unestimated": result.unestimated,
        }
        top = result.rows[:RANGE_ITEMS]
        throughput = [done for _, _, done in done_points(product=product, last=SAMPLE_SPRINTS)]
        samples = []
        for _ in range(3):
            elapsed, ranges = timed(
                lambda top=top, fractions=result.fractions, throughput=throughput, seed=product.pk: monte_carlo(
                    top, fractions, throughput, seed=seed
                )
            )
            samples.append(elapsed)
        figures["monte_carlo_top_items"] = {
            **percentiles(samples),
            "items": len(ranges),
            "throughput_samples": throughput,
            "top_item_range": ranges.get(top[0].id) if top else None,
        }
        results["sizes"][str(size)] = figures

    if len(sizes) >= 2:
        small, big = results["sizes"][str(sizes[0])], results["sizes"][str(sizes[-1])]
        results["plan_median_ratio_largest_over_smallest"] = round(
            big["plan"]["median_ms"] / small["plan"]["median_ms"], 2
        )
    out = json.dumps(results, indent=2)
    print(out)
    if sizes == [10_000, 100_000]:
        (ROOT / "bench" / "results" / "sprints.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
