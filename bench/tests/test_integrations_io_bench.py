"""The documented import/export benchmark still runs (tiny sizes) and reports what it promises."""

import pytest

from bench.tests.helpers import run_bench, sibling_database

pytestmark = pytest.mark.postgres


def test_integrations_io_benchmark_runs_and_reports():
    figures = run_bench(
        "integrations_io.py",
        *("--export-sizes", "300,600", "--import-sizes", "100,200", "--output", ""),
        BENCH_DATABASE_URL=sibling_database("onebacklog_bench_io_smoke"),
    )
    for size in ("300", "600"):
        for format in ("csv", "json"):
            found = figures["export"][size][format]
            assert found["seconds"] > 0 and found["bytes"] > 0 and found["python_peak_mib"] > 0
            assert found["queries"] <= 3  # the items through one cursor, the labels per chunk
    for size in ("100", "200"):
        found = figures["import"][size]
        assert found["rows"] == int(size) and found["rows_per_second"] > 0
        assert found["preview"]["python_peak_mib"] > 0 and found["run"]["python_peak_mib"] > 0
    assert set(figures["import_memory_ratio_largest_over_smallest"]) == {"preview", "run"}
