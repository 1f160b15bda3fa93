"""The documented search benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_search_benchmark_runs_and_reports():
    figures = run_bench(
        "search.py",
        *("--items", "400", "--queries", "5"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_search_smoke"),
    )
    assert figures["items"] == 400 and figures["comments"] >= 200
    for term in ("common_term", "rare_term"):
        assert figures[term]["search"]["n"] == figures[term]["ilike"]["n"] == 5
        assert figures[term]["matching_items"] > 0
        assert figures[term]["ratio_ilike_over_search_p50"] > 0
    assert figures["rare_term"]["matching_items"] == 12
