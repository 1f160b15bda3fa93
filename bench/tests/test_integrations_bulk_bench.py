"""The documented bulk edit benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_bulk_benchmark_runs_and_reports():
    figures = run_bench(
        "integrations_bulk.py",
        *("--items", "200", "--batch", "20", "--runs", "2"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_bulk_smoke"),
    )
    for name in ("labels", "values", "archive"):
        operation = figures["operations"][name]
        assert operation["items_changed"] == [20] and len(operation["queries"]) == 1
    assert figures["operations"]["labels"]["score_jobs_queued"] == [0]
    assert figures["baseline_single_requests"]["requests"] == 40
