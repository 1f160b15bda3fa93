"""The documented scale benchmark still runs (tiny sizes, the larger one built by SQL copies)
and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres

MOVES = ("top", "before_item", "block_of_10", "position_n", "bottom")
PATHS = (
    "backlog_page_first_screen",
    "api_first_page",
    "api_deep_page",
    "item_page_deep_item",
    "api_count_true",
    "suggested_order_api",
    "review_queue_api",
    "apply_suggestion_to_10",
    "refinement_agenda_api",
    "debt_report_api",
)


def test_scale_benchmark_runs_and_reports(tmp_path):
    out = tmp_path / "scale.json"
    figures = run_bench(
        "scale.py",
        *("--sizes", "150,300", "--seed-max", "150", "--copy-chunk", "100", "--baseline-size", "300"),
        *("--moves", "3", "--requests", "2", "--min-samples", "1", "--proposals", "3"),
        *("--job-seconds", "0.3", "--writers", "3", "--writer-seconds", "0.5", "--out", str(out)),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_scale_smoke"),
    )
    assert out.exists()
    small, large = figures["by_size"]["150"], figures["by_size"]["300"]
    # Scored, so that the suggestion has something to list and apply at every size.
    assert small["built_by"] == "demo_backlog_seed, then product_scores_recompute"
    assert large["built_by"].startswith("SQL copies")
    assert small["positions_checked"] >= 2 and large["positions_checked"] >= 2
    for size in (small, large):
        for kind in MOVES:
            assert size[f"move_{kind}_service"]["median_ms"] > 0
            assert size[f"move_{kind}_api"]["median_ms"] > 0
        for path in PATHS:
            assert size[path]["median_ms"] > 0 and size[path]["added_peak_mb"] >= 0
        for job in ("suggestion_refresh", "due_score_refresh", "score_recompute", "rebalance"):
            assert size["jobs"][job]["moves_during"]["n"] > 0
            assert size["jobs"][job]["moves_p99_ratio"] > 0
        assert size["jobs"]["score_recompute_ratio_to_floor"] > 0
        assert not size["respace_long_keys"]["long_keys_left"]  # after the hourly respacing
        assert size["writers"]["threads"] == 3 and size["writers"]["moves_per_second"] > 0
    # 200 moves into one gap of the larger product (the smaller has 149 to move): long keys, respaced.
    assert large["respace_long_keys"]["keys_longer_than_long_key"] > 0 and large["respace_long_keys"]["windows"] >= 1
    baseline = large["django_ordered_model"]
    assert baseline["rows"] == 300 and baseline["ratio_to_n_over_ours_position_n"] > 0
    # The position-N move's statements replayed prepared (each replay checked to land where asked).
    assert large["move_floor"]["median_ms"] > 0 and large["move_floor"]["statements"] >= 5
    assert baseline["ratio_to_n_over_move_floor"] > 0
    assert figures["growth"]["move_position_n_service"]["300/150"] > 0
