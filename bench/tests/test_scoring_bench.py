"""The documented scoring benchmark still runs (tiny sizes, a real worker) and reports what it promises."""

import os

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_scoring_benchmark_runs_and_reports():
    figures = run_bench(
        "scoring.py",
        *("--items", "300", "--edits", "20", "--runs", "1"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_scoring_smoke"),
        BENCH_REDIS_URL=os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/13",
    )
    assert figures["full_recompute"]["items_scored"] == figures["sql_floor"]["rows"] == 300
    assert figures["ratio_recompute_over_floor"] > 0
    assert figures["edits_to_fresh_scores"]["edits"] == 20
