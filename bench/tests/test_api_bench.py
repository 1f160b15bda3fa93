"""The documented API benchmark still runs (tiny sizes) and reports what it promises."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def test_api_benchmark_runs_and_reports():
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    env = {**os.environ, "BENCH_DATABASE_URL": f"{base}/onebacklog_bench_api_smoke"}
    result = subprocess.run(
        [sys.executable, "bench/api.py", "--items", "300", "--seconds", "0.3", "--workers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(result.stdout)
    for name in ("first_page", "deep_page", "filtered", "move", "baseline_first_page", "baseline_deep_page"):
        for clients in (1, 8):
            assert figures[f"{name}_c{clients}"]["requests"] > 0
    assert isinstance(figures["queries_per_request"]["first_page"], int), "queries vary with the page size"
    assert figures["ratio_first_page_p50_c1"] > 0
