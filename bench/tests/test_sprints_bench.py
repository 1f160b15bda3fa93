"""The documented sprint benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_sprints_benchmark_runs_and_reports():
    figures = run_bench(
        "sprints.py",
        *("--sizes", "300,600", "--runs", "3", "--forecast-runs", "1"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_sprints_smoke"),
    )
    for size in ("300", "600"):
        found = figures["sizes"][size]
        assert found["ordered_items"] == int(size)
        assert found["plan"]["queries"] <= 3 and found["plan"]["items_in_plan"] > 0
        assert found["forecast_all_items"]["items"] == int(size)
        assert found["monte_carlo_top_items"]["items"] > 0
    assert figures["plan_median_ratio_largest_over_smallest"] > 0
