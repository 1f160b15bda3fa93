"""Integration benchmarks (issue 15), each in its own process, combined into one JSON document.

    make bench-integrations             # or: python bench/integrations.py [--only io,bulk,webhooks]

- io (bench/integrations_io.py): import of 1,000 and 10,000 CSV rows on PostgreSQL (time, rows/s,
  memory), export of 10,000 and 100,000 items (time, peak memory);
- bulk (bench/integrations_bulk.py): bulk edit of 500 items in one request (queries, time) against
  the same edits made one request each;
- webhooks (bench/integrations_webhooks.py): 1,000 deliveries to a real receiver that refuses the
  first attempt of every tenth, drained by 2 Celery worker processes (time, attempts, signatures).

Each part builds its own PostgreSQL database and writes bench/results/integrations_<part>.json;
this script runs them one after another (a part's Django set-up never meets another's), prints
the combined figures and writes bench/results/integrations.json.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("io", "bulk", "webhooks")


def run(parts: tuple[str, ...] = PARTS) -> dict:
    combined: dict = {}
    for part in parts:
        script = ROOT / "bench" / f"integrations_{part}.py"
        started = time.perf_counter()
        subprocess.run([sys.executable, str(script)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        result = json.loads((ROOT / "bench" / "results" / f"integrations_{part}.json").read_text())
        combined[part] = {"wall_seconds": round(time.perf_counter() - started, 1), **result}
    return combined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts to run, comma-separated ({', '.join(PARTS)})")
    args = parser.parse_args()
    parts = tuple(part.strip() for part in args.only.split(",") if part.strip())
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts: {', '.join(unknown)}")
    results = run(parts)
    text = json.dumps(results, indent=2)
    print(text)
    (ROOT / "bench" / "results" / "integrations.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
