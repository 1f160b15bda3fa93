"""`make run` as the README gives it (dry runs: nothing is installed or started)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(*variables: str) -> str:
    venv = Path(sys.executable).parent.parent  # the running interpreter's venv: nothing to install
    return subprocess.run(  # noqa: S603 - a dry run of our own Makefile
        ["make", "-n", "run", f"VENV={venv}", *variables],  # noqa: S607 - make from the PATH, as the README says
        cwd=settings.BASE_DIR,
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
