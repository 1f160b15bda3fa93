"""The documented benchmark command still runs (tiny sizes) and reports what it promises."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def test_ordering_benchmark_runs_and_reports(tmp_path):
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    env = {**os.environ, "BENCH_DATABASE_URL": f"{base}/onebacklog_bench_smoke"}
    result = subprocess.run(
        [sys.executable, "bench/ordering.py", "--items", "400", "--moves", "10", "--renumber-runs", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(result.stdout)
    assert figures["backlog_items"] == figures["ordered_items"] == 400
    for name in ("move_to_top", "move_to_bottom", "move_before_random_item", "move_to_random_position_n"):
        assert figures[name]["item_rows_written_per_move"] == 1.0
        assert figures[name]["median_ms"] > 0
    assert figures["renumber_move_to_top_baseline"]["rows_written_per_move"] == 400
    assert figures["adversarial_same_gap_inserts"]["longest_key_seen"] <= figures["key_max_length_setting"]
    assert figures["random_moves"]["longest_key_after"] <= figures["key_max_length_setting"]
