"""The documented page benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_pages_benchmark_runs_and_reports():
    figures = run_bench(
        "pages.py",
        *("--items", "300", "--requests", "5"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_pages_smoke"),
    )
    assert figures["items"] == 300
    assert figures["backlog_page"]["n"] == figures["api_first_page"]["n"] == 5
    assert figures["ratio_page_over_api_p50"] > 0
