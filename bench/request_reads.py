"""Request paths that used to read a whole product, before and after (issue 17). Prints JSON
(and writes bench/results/request_reads.json).

    python bench/request_reads.py [--items N] [--requests R]

On a fresh PostgreSQL database with an N-item backlog (default 100,000, ordered, seeded with
``demo_backlog_seed``, scored, the debt snapshot taken), as the product owner, R requests each
through Django's full request handling in this process (medians and p99), and the item rows they
read (PostgreSQL's counters, ``config.tests.reads``). "Previous" rows run the statements the
code ran before, in the same run: the agenda's correlated COUNT per item, the debt report's
aggregates over the backlog, one item's forecast summing every item above it, the forecast's
window over the whole order.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    setup_django(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_reads"))
    from django.db import connection
    from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
    from django.db.models.functions import Coalesce
    from django.test import Client

    from accounts.models import Membership, Product, User
    from backlog.models import Item
    from backlog.services.demo import demo_backlog_seed
    from backlog.services.scores import product_scores_recompute
    from config.tests.reads import rows_read
    from delivery import forecast as forecasting
    from refinement.selectors import backlog_composition, debt_totals
    from refinement.services.debt import debt_snapshot_take

    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    demo_backlog_seed(product=product, creators=[owner], count=args.items, only_ordered=True)
    product_scores_recompute(product_id=product.pk)
    debt_snapshot_take(product_id=product.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    product.refresh_from_db()
    client = Client()
    client.force_login(owner)
    key = product.key
    deep = Item.objects.filter(product=product).order_by("-rank").values_list("number", flat=True)[10]

    def measure(run) -> dict:
        run()  # warm-up
        with rows_read("backlog_item") as read:
            run()
        samples = []
        for _ in range(args.requests):
            start = time.perf_counter()
            run()
            samples.append((time.perf_counter() - start) * 1000)
        return {**percentiles(samples), "item_rows_read": read.rows}

    def get(url: str):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    def previous_agenda():
        list(
            Item.objects.filter(product=product)
            .ordered()
            .not_ready(product)
            .select_related("product")
            .annotate(
                position=Subquery(
                    Item.objects.filter(product=product, rank__lt=OuterRef("rank"))
                    .order_by()
                    .values("product")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                )
            )[:20]
        )

    def previous_debt_figures():
        debt_totals(product=product)
        backlog_composition(product=product)

    def previous_item_forecast_sum():
        item = Item.objects.get(product=product, number=deep)
        Item.objects.filter(product=product, rank__isnull=False, rank__lte=item.rank).aggregate(
            points=Coalesce(Sum("estimate"), 0)
        )

    def previous_forecast():
        """The forecast API's top 100 with the window (and the unestimated count) over the whole order."""
        bounded = forecasting._window
        forecasting._window = lambda product, limit: Item.objects.filter(product=product, rank__isnull=False)
        try:
            get(f"/api/v1/products/{key}/forecast/?limit=100")()
        finally:
            forecasting._window = bounded

    results = {
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "items": args.items,
        "deep_item_position_from_the_end": 11,
        "refinement_agenda_page": measure(get(f"/p/{key}/refinement/")),
        "refinement_agenda_api_20": measure(get(f"/api/v1/products/{key}/refinement-agenda/?limit=20")),
        "previous_agenda_query_20": measure(previous_agenda),
        "debt_report_page": measure(get(f"/p/{key}/debt/")),
        "debt_report_api": measure(get(f"/api/v1/products/{key}/debt-report/")),
        "previous_debt_aggregates": measure(previous_debt_figures),
        "item_page_deep_item": measure(get(f"/p/{key}/{deep}/")),
        "item_delivery_panel_deep_item": measure(get(f"/p/{key}/{deep}/delivery/")),
        "previous_item_forecast_sum_deep_item": measure(previous_item_forecast_sum),
        "forecast_api_top_100": measure(get(f"/api/v1/products/{key}/forecast/?limit=100")),
        "previous_forecast_api_top_100_window_over_the_order": measure(previous_forecast),
        "api_list_first_page": measure(get(f"/api/v1/products/{key}/items/")),
        "api_list_with_count_true": measure(get(f"/api/v1/products/{key}/items/?count=true")),
    }
    out = json.dumps(results, indent=2)
    print(out)
    (ROOT / "bench" / "results" / "request_reads.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
