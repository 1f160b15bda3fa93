"""The documented intake benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_intake_benchmark_runs_and_reports():
    figures = run_bench(
        "intake.py",
        *("--tickets", "40", "--fingerprints", "4", "--one-surge", "60", "--open-items", "30", "--requests", "2"),
        *("--workers", "2"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_intake_smoke"),
    )
    surge = figures["surge"]
    assert (surge["items"], surge["occurrences"], surge["duplicates"], surge["errors"]) == (4, 40, 0, 0)
    assert figures["one_fingerprint"]["item"] == {
        "priority": "P3",
        "occurrences": 60,
        "affected_users": 60,
        "priority_changes": 1,
    }
    assert figures["queue_page"]["ratio_p50"] > 0
