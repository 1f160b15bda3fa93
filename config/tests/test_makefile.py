"""`make run` as the README gives it (dry runs: nothing is installed or started)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


# The Makefile's own variables, as a run of `make test-postgres` exports them to this process: a
# dry run must see the Makefile's defaults, not the settings of the run it is part of.
MAKE_VARIABLES = {
    *("FUZZ_EXAMPLES", "FUZZ_PHASES", "TEST_PROCESSES", "PG_URL", "REDIS_TEST_URL"),
    *("MAKEFLAGS", "MAKELEVEL"),
}


def planned(*variables: str, target: str = "run") -> str:
    venv = Path(sys.executable).parent.parent  # the running interpreter's venv: nothing to install
    return subprocess.run(  # noqa: S603 - a dry run of our own Makefile
        ["make", "-n", target, f"VENV={venv}", *variables],  # noqa: S607 - make from the PATH, as the README says
        cwd=settings.BASE_DIR,
        env={name: value for name, value in os.environ.items() if name not in MAKE_VARIABLES},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_run_serves_on_port_8000_or_the_given_port():
    assert "manage.py runserver 127.0.0.1:8000" in planned()
    commands = planned("PORT=8123")
    assert "manage.py runserver 127.0.0.1:8123" in commands
    assert "http://127.0.0.1:8123/" in commands  # where to sign in
    assert commands.index("migrate") < commands.index("seed_demo") < commands.index("runserver")


def test_make_test_runs_on_two_processes_and_the_postgres_run_on_one():
    """SQLite test databases are per process; the PostgreSQL run shares one Redis and a real worker."""
    assert "-m pytest -n 2" in planned(target="test")
    assert "-m pytest -n 1" in planned("TEST_PROCESSES=1", target="test")
    assert " -n " not in planned(target="test-postgres")


def test_the_test_commands_keep_compiled_modules():
    """Each test process and each server a test starts would compile the project again otherwise."""
    assert "PYTHONDONTWRITEBYTECODE= " in planned(target="test")
    assert "PYTHONDONTWRITEBYTECODE= " in planned(target="test-postgres")


def test_the_schema_fuzz_is_quick_on_sqlite_and_full_on_postgres():
    assert "FUZZ_EXAMPLES=3 FUZZ_PHASES=examples,fuzzing " in planned(target="test")
    assert "FUZZ_EXAMPLES=25 FUZZ_PHASES=examples,coverage,fuzzing " in planned(target="test-postgres")


def test_every_folder_with_tests_is_collected_by_make_test():
    """`make test` runs pytest without paths: pytest.ini's testpaths must name every app with tests."""
    import configparser
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    parser = configparser.ConfigParser()
    parser.read(root / "pytest.ini")
    collected = set(parser["pytest"]["testpaths"].split())
    with_tests = {path.parent.parent.name for path in root.glob("*/tests/__init__.py")}
    assert with_tests - collected == set()
