"""The production run book: the Procfile's processes, and gunicorn with config/gunicorn.py (its
control socket in the project's run directory, a slow client holding one thread, not the server)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from honcho.environ import parse_procfile

ROOT = Path(__file__).resolve().parents[2]


def test_the_procfile_runs_web_worker_and_beat():
    processes = parse_procfile((ROOT / "Procfile").read_text()).processes
    assert set(processes) == {"web", "worker", "beat"}
    assert processes["web"] == "gunicorn -c config/gunicorn.py"
    assert "celery -A config worker" in processes["worker"]
    assert "celery -A config beat" in processes["beat"]


def test_every_systemd_unit_restarts_its_process():
    units = sorted((ROOT / "deploy").glob("*.service"))
    assert [unit.name for unit in units] == [
        "onebacklog-beat.service",
        "onebacklog-web.service",
        "onebacklog-worker.service",
    ]
    for unit in units:
        assert "\nRestart=always\n" in unit.read_text(), unit.name


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, timeout: float) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own server
        return response.status


@pytest.fixture
def gunicorn(tmp_path):
    port = spare_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "RUN_DIR": str(tmp_path / "run"),
        "WEB_CONCURRENCY": "1",  # one process: only its threads can serve a second client
        "WEB_THREADS": "2",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "HOME": str(tmp_path / "home"),  # gunicorn's default control socket would go under here
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            get(f"{url}/healthz", timeout=1)
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
    yield url, tmp_path
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def test_gunicorn_keeps_its_control_socket_in_the_run_directory(gunicorn):
    _, tmp_path = gunicorn
    assert (tmp_path / "run" / "gunicorn.ctl").is_socket()
    assert (tmp_path / "run" / "gunicorn.pid").exists()
    assert not (tmp_path / "home" / ".gunicorn").exists()


def test_a_slow_client_does_not_hold_up_the_others(gunicorn):
    url, _ = gunicorn
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as slow:
        # A request whose headers never end (a slow client, or a slowloris).
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        time.sleep(0.3)
        started = time.monotonic()
        assert get(f"{url}/healthz", timeout=5) == 200
        assert time.monotonic() - started < 2
