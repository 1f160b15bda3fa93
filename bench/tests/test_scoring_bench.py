"""The documented scoring benchmark still runs (tiny sizes, a real worker) and reports what it promises."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


def test_scoring_benchmark_runs_and_reports():
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    redis_base = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0]
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": f"{base}/onebacklog_bench_scoring_smoke",
        "BENCH_REDIS_URL": f"{redis_base}/13",
    }
    result = subprocess.run(
        [sys.executable, "bench/scoring.py", "--items", "300", "--edits", "20", "--runs", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(result.stdout)
    assert figures["full_recompute"]["items_scored"] == figures["sql_floor"]["rows"] == 300
    assert figures["ratio_recompute_over_floor"] > 0
    assert figures["edits_to_fresh_scores"]["edits"] == 20
