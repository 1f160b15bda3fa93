"""The documented notifications benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_notifications_benchmark_runs_and_reports():
    figures = run_bench(
        "notifications.py",
        *("--watchers", "150", "--requests", "3", "--jobs", "2"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_notifications_smoke"),
    )
    job = figures["comment_job"]
    assert job["queries_at_150_watchers"] == [job["queries_at_100_watchers"]]  # constant in the watchers
    assert job["notifications_at_150_watchers"] == 150 + 10
    assert figures["edit_job"]["queries_at_150_watchers"] == [figures["edit_job"]["queries_at_100_watchers"]]
    assert (
        figures["request"]["comment_on_watched_item"]["queries"]
        == figures["request"]["comment_on_unwatched_item"]["queries"]
    )
