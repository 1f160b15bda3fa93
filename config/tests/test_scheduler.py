"""The embedded schedule (config/scheduler.py): beat's work in the served process without a broker."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from celery import shared_task
from django.conf import settings

from config.scheduler import EmbeddedSchedule, embedded_schedule_start, lock_path

RUNS: list[str] = []
ROOT = Path(settings.BASE_DIR)


@shared_task(name="config.tests.record")
def record(tag: str) -> None:
    RUNS.append(tag)


@shared_task(name="config.tests.fail")
def fail() -> None:
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _runs():
    RUNS.clear()


def entries(**schedules: float) -> dict:
    return {tag: {"task": "config.tests.record", "schedule": every, "args": [tag]} for tag, every in schedules.items()}


def test_every_task_runs_at_start_then_at_its_interval(tmp_path):
    schedule = EmbeddedSchedule(entries=entries(fast=0.3, hourly=3600), lock_file=tmp_path / "lock")
    wait = schedule.tick()
    assert RUNS == ["fast", "hourly"]
    assert 0 < wait <= 1.0  # the next tick comes for the fast one (at least a second apart)
    assert schedule.tick() and RUNS == ["fast", "hourly"]  # nothing due yet
    time.sleep(0.35)
    schedule.tick()
    assert RUNS == ["fast", "hourly", "fast"]


def test_a_failing_task_does_not_stop_the_others(tmp_path, capfd):
    broken = {"broken": {"task": "config.tests.fail", "schedule": 60}, **entries(after=60)}
    schedule = EmbeddedSchedule(entries=broken, lock_file=tmp_path / "lock")
    schedule.tick()
    assert RUNS == ["after"]
    assert "Scheduled task broken failed" in capfd.readouterr().err  # logged, with its traceback


def test_only_the_process_holding_the_lock_runs_the_schedule(tmp_path):
    first = EmbeddedSchedule(entries=entries(a=60), lock_file=tmp_path / "lock")
    second = EmbeddedSchedule(entries=entries(b=60), lock_file=tmp_path / "lock", standby_seconds=7)
    first.tick()
    assert second.tick() == 7  # stands by
    assert RUNS == ["a"]
    first.stop()
    first.run()  # returns at once (stopped) and lets the lock go
    second.tick()
    assert RUNS == ["a", "b"]  # the standby took over


def test_the_thread_runs_the_schedule_until_stopped(tmp_path):
    schedule = EmbeddedSchedule(entries=entries(a=3600), lock_file=tmp_path / "lock")
    thread = schedule.start()
    deadline = time.monotonic() + 10
    while not RUNS and time.monotonic() < deadline:
        time.sleep(0.02)
    assert RUNS == ["a"]
    schedule.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    EmbeddedSchedule(entries=entries(b=3600), lock_file=tmp_path / "lock").tick()
    assert RUNS == ["a", "b"]  # the lock went with the thread


def test_it_starts_only_without_a_broker(settings):
    settings.EMBEDDED_SCHEDULE = True
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker and celery beat do the work
    assert embedded_schedule_start() is None
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMBEDDED_SCHEDULE = False  # switched off
    assert embedded_schedule_start() is None


def test_one_lock_per_database():
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/app/db.sqlite3"}
    assert lock_path(sqlite) == Path("/srv/app/db.sqlite3-schedule.lock")  # beside it, cleaned with it
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "ob", "HOST": "db1", "PORT": 5432}
    assert lock_path(postgres) == lock_path(dict(postgres))
    assert lock_path(postgres) != lock_path({**postgres, "HOST": "db2"})
    assert lock_path(postgres).parent == Path(tempfile.gettempdir())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    )


def test_make_run_shows_drift_and_stale_items_without_any_move(tmp_path, migrated_sqlite):
    """End to end on the embedded default, as `make run` does it: a migrated database (every test
    database is made by the same migrations), seed_demo, runserver (SQLite, no Redis, jobs
    in-process). Without a single move the backlog shows drift and the schedule, run by the served
    process, has flagged the items nobody touched for months."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "EMBEDDED_SCHEDULE", "ALLOWED_HOSTS"}
    }
    env.update(SQLITE_PATH=str(migrated_sqlite), DEBUG="true", PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    seeded = _manage("seed_demo", "--items", "100", env=env)  # a smaller demo: the same behaviour, sooner
    assert "olivia" in seeded.stdout and "onebacklog-demo" in seeded.stdout
    assert "Task " not in seeded.stdout + seeded.stderr  # no job log lines
    assert "hostname" not in seeded.stderr  # no broker warnings

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        session = requests.Session()
        deadline = time.monotonic() + 30
        while True:
            try:
                login = session.get(f"{base}/accounts/login/", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, "runserver did not start"
                time.sleep(0.2)
        session.post(
            f"{base}/accounts/login/",
            data={
                "login": "olivia",
                "password": "onebacklog-demo",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": login.url},
            timeout=10,
        ).raise_for_status()

        page = session.get(f"{base}/p/OB/", timeout=10)
        assert page.status_code == 200
        assert len(re.findall(r"places (up|down) by score", page.text)) >= 5  # drift arrows, no move made

        stale: list = []
        while not stale and time.monotonic() < deadline:  # the schedule's first run is under way
            stale = session.get(f"{base}/api/v1/products/OB/stale-items/", timeout=10).json()["results"]
            time.sleep(0.2)
        assert stale, "no stale items flagged by the embedded schedule"
        assert all(item["status"] in {"open", "in_progress"} for item in stale)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    served = (tmp_path / "server.log").read_text()
    assert "Running the schedule in this process" in served
    assert (tmp_path / "db.sqlite3-schedule.lock").exists()  # its lock, beside the database
    for task in ("refresh_due_scores", "flag_stale_items", "snapshot_debt", "rebalance_long_keys"):
        assert re.search(rf"Task \S+\.{task}\[\S+\] succeeded", served), task
