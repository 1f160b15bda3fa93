"""The documented API benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_api_benchmark_runs_and_reports():
    figures = run_bench(
        "api.py",
        *("--items", "300", "--seconds", "0.3", "--workers", "2"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_api_smoke"),
    )
    for name in ("first_page", "deep_page", "filtered", "move", "baseline_first_page", "baseline_deep_page"):
        for clients in (1, 8):
            assert figures[f"{name}_c{clients}"]["requests"] > 0
    assert isinstance(figures["queries_per_request"]["first_page"], int), "queries vary with the page size"
    assert figures["ratio_first_page_p50_c1"] > 0
