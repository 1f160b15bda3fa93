"""The documented benchmark command still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_ordering_benchmark_runs_and_reports():
    figures = run_bench(
        "ordering.py",
        *("--items", "400", "--moves", "10", "--renumber-runs", "2"),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_smoke"),
    )
    assert figures["backlog_items"] == figures["ordered_items"] == 400
    for name in ("move_to_top", "move_to_bottom", "move_before_random_item", "move_to_random_position_n"):
        assert figures[name]["item_rows_written_per_move"] == 1.0
        assert figures[name]["median_ms"] > 0
    assert figures["renumber_move_to_top_baseline"]["rows_written_per_move"] == 400
    assert figures["adversarial_same_gap_inserts"]["longest_key_seen"] <= figures["key_max_length_setting"]
    assert figures["adversarial_same_gap_inserts"]["order_intact"] is True
    assert figures["random_moves"]["longest_key_after"] <= figures["key_max_length_setting"]
