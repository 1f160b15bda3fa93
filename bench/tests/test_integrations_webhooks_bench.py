"""The documented webhook benchmark still runs (tiny size, real workers) and reports what it promises."""

import os

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_webhook_benchmark_runs_and_delivers_everything():
    figures = run_bench(
        "integrations_webhooks.py",
        *("--deliveries", "20"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_webhooks_smoke"),
        BENCH_REDIS_URL=os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/13",
    )
    assert figures["all_delivered"] is True
    assert figures["accepted_by_the_receiver"] == 20
    assert figures["bad_signatures"] == 0
    assert figures["first_attempts_refused"] == figures["retried_deliveries"] == 2
    assert figures["attempts"] == 22
    assert figures["retry_lag_ms"]["median_ms"] >= 5000  # the first retry waits 5 s
