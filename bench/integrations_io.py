"""Import and export benchmark on PostgreSQL. Prints JSON (and writes bench/results/integrations_io.json).

    make bench-integrations-io         # or: python bench/integrations_io.py [--export-sizes 10000,100000] ...

Builds a fresh database (``BENCH_DATABASE_URL``, default ``onebacklog_bench_io``) and measures:
- the export of a backlog of each export size (default 10,000 and 100,000 ordered items with
  labels), as CSV and as JSON, consumed as a client would read the stream: time, rows/s, bytes,
  queries, and the process's peak memory during the export (the growth of its resident set's
  high-water mark, reset before each measurement through /proc/self/clear_refs; and the peak of
  Python's own allocations, measured by tracemalloc in a separate untimed pass);
- the import of each import size (default 1,000 and 10,000 rows) of our own export's CSV (every
  field, real generated items), into a fresh product: the upload's preview (read and check every
  row) and the run (check again, then write everything in one transaction), each timed, rows/s,
  and the peak memory of each, as for the export. Comparing the sizes shows whether memory stays
  constant. The jobs the import queues afterwards (rescoring, suggestions, notifications of the
  created events) are not part of the figure, and the import runs with DEBUG off as in
  production (DEBUG's log of every SQL statement would otherwise grow with the rows).

``run(...)`` returns the figures as a dict (the lead's bench/integrations.py combines them).
"""

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/onebacklog_bench_io"


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the resident set's high-water mark (Linux); False where it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measured(fn) -> dict:
    """Run ``fn`` timed, with the growth of the process's peak resident memory; then again (when
    ``again`` is given by the caller) for tracemalloc's peak."""
    import gc

    gc.collect()
    reset = _reset_peak()
    before = _status_kib("VmRSS")
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM")
    figures = {"seconds": round(seconds, 3), "value": value}
    if reset and before is not None and peak is not None:
        figures["peak_rss_growth_mib"] = round((peak - before) / 1024, 1)
    return figures


def traced_peak_mib(fn) -> float:
    """Peak of Python's allocations while ``fn`` runs (tracemalloc; slower, so not timed)."""
    import gc

    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 2)


def run(
    database_url: str | None = None,
    export_sizes: tuple[int, ...] = (10_000, 100_000),
    import_sizes: tuple[int, ...] = (1_000, 10_000),
) -> dict:
    import os

    setup_django(database_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.datastructures import MultiValueDict

    from accounts.models import Membership, Product, User
    from backlog import jobs
    from backlog.exports import export_stream
    from backlog.models import Item
    from backlog.services import imports
    from backlog.services.demo import demo_backlog_seed
    from notifications import jobs as notification_jobs

    # The benchmark times the import itself (the rescoring it marks is a job: in process the
    # embedded schedule's, not run here).
    imports.enqueue_suggestions = lambda product_id: None
    imports.enqueue_import = lambda import_id: None
    notification_jobs.enqueue_item_events = lambda event_ids: None
    assert jobs.in_process()

    owner = User.objects.create(username="bench-owner")

    made = []

    def new_product(name: str) -> Product:
        made.append(name)
        key = "B" + "".join(chr(ord("A") + int(digit)) for digit in str(len(made)))
        product = Product.objects.create(name=f"Benchmark {name}", key=key)
        Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
        return product

    results: dict = {"database": f"PostgreSQL {connection.pg_version // 10000}", "export": {}, "import": {}}
    sources: dict[int, Product] = {}
    for size in sorted(set(export_sizes) | {max(import_sizes)}):
        product = new_product(f"export {size}")
        start = time.perf_counter()
        demo_backlog_seed(product=product, creators=[owner], count=size, only_ordered=True)
        results.setdefault("seed_seconds", {})[str(size)] = round(time.perf_counter() - start, 1)
        sources[size] = product

    for size in export_sizes:
        product = sources[size]
        figures: dict = {"items": size}
        for format in ("csv", "json"):

            def consume(product=product, format=format) -> tuple[int, int]:
                lines, _ = export_stream(product=product, filters=MultiValueDict(), format=format)
                rows = total = 0
                for line in lines:
                    total += len(line.encode("utf-8"))
                    rows += 1
                return rows, total

            with CaptureQueriesContext(connection) as queries:
                timed = measured(consume)
            lines, size_bytes = timed.pop("value")
            figures[format] = {
                **timed,
                "rows_per_second": round(size / timed["seconds"]),
                "bytes": size_bytes,
                "queries": len(queries),
                "python_peak_mib": traced_peak_mib(consume),
            }
        results["export"][str(size)] = figures

    # The import files: our own export (every field) of the first N items of a generated backlog.
    full = sources[max(import_sizes)]
    settings.DEBUG = False  # no log of every statement (connection.queries), as in production
    for size in import_sizes:
        lines, _ = export_stream(product=full, filters=MultiValueDict(), format="csv")
        kept = []
        for index, line in enumerate(lines):
            if index > size:
                break
            kept.append(line)
        data = "".join(kept).encode("utf-8")
        del kept
        figures = {"rows": size, "file_bytes": len(data)}
        for attempt in ("timed", "traced"):
            target = new_product(f"import {size} {attempt}")

            def preview(target=target, data=data):
                return imports.import_preview(product=target, actor=owner, data=data, file_name="bench.csv")

            def write(imported_id: int):
                return imports.import_run(import_id=imported_id)

            if attempt == "timed":
                checked = measured(preview)
                imported = checked.pop("value")
                assert not imported.errors, imported.errors[:3]
                imports.import_confirm(imported=imported, actor=owner)
                written = measured(lambda imported=imported: write(imported.pk))
                done = written.pop("value")
                assert done.state == "done", done.failure
                assert Item.objects.filter(product=target).count() == size
                total = checked["seconds"] + written["seconds"]
                figures.update(
                    preview=checked,
                    run=written,
                    total_seconds=round(total, 3),
                    rows_per_second=round(size / total),
                )
            else:
                imported = preview()
                imports.import_confirm(imported=imported, actor=owner)
                figures["preview"]["python_peak_mib"] = traced_peak_mib(preview)
                figures["run"]["python_peak_mib"] = traced_peak_mib(lambda imported=imported: write(imported.pk))
        results["import"][str(size)] = figures

    small, large = str(min(import_sizes)), str(max(import_sizes))
    if small != large:
        results["import_memory_ratio_largest_over_smallest"] = {
            stage: round(
                results["import"][large][stage]["python_peak_mib"]
                / max(results["import"][small][stage]["python_peak_mib"], 0.01),
                2,
            )
            for stage in ("preview", "run")
        }
    small, large = str(min(export_sizes)), str(max(export_sizes))
    if small != large:
        results["export_memory_ratio_largest_over_smallest"] = {
            format: round(
                results["export"][large][format]["python_peak_mib"]
                / max(results["export"][small][format]["python_peak_mib"], 0.01),
                2,
            )
            for format in ("csv", "json")
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export-sizes", default="10000,100000", help="backlog sizes exported (default 10000,100000)")
    parser.add_argument("--import-sizes", default="1000,10000", help="CSV rows imported (default 1000,10000)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "integrations_io.json"))
    args = parser.parse_args()
    results = run(
        export_sizes=tuple(int(size) for size in args.export_sizes.split(",")),
        import_sizes=tuple(int(size) for size in args.import_sizes.split(",")),
    )
    text = json.dumps(results, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
