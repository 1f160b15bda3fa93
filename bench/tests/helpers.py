import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, **env: str) -> dict:
    """Run a benchmark script as documented (tiny sizes) and return the JSON it prints."""
    result = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout)


def sibling_database(name: str) -> str:
    """A database next to the test database's server: the benchmarks make their own."""
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
