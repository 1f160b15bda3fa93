"""API budgets: shared by every server process, and spent by requests without valid credentials
(no token, a bad token) per client address, before authentication can refuse them."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.api.throttling import AddressThrottle

ROOT = Path(__file__).resolve().parents[3]
PRODUCTS = "/api/v1/products/"


@pytest.fixture
def anon_limit_3(monkeypatch, one_throttle_window):
    monkeypatch.setattr(AddressThrottle, "THROTTLE_RATES", {"anon": "3/min"})


def statuses(client: APIClient, count: int, **headers) -> list[int]:
    return [client.get(PRODUCTS, **headers).status_code for _ in range(count)]


@pytest.mark.django_db
def test_a_bad_token_is_throttled_per_address_with_the_error_format(anon_limit_3, owner):
    guesser = APIClient(REMOTE_ADDR="203.0.113.7")
    guesser.credentials(HTTP_AUTHORIZATION="Bearer obk_guess")
    assert statuses(guesser, 4) == [401, 401, 401, 429]
    refused = guesser.get(PRODUCTS)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "throttled"
    assert refused.json()["error"]["status"] == 429
    # Another address has its own budget.
    other = APIClient(REMOTE_ADDR="198.51.100.9")
    other.credentials(HTTP_AUTHORIZATION="Bearer obk_guess")
    assert statuses(other, 1) == [401]


@pytest.mark.django_db
def test_requests_without_credentials_are_throttled_per_address(anon_limit_3):
    client = APIClient(REMOTE_ADDR="203.0.113.8")
    assert statuses(client, 4) == [401, 401, 401, 429]
    # A malformed Authorization header spends the same budget.
    assert statuses(client, 1, HTTP_AUTHORIZATION="Bearer") == [429]


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_buy_a_new_budget(anon_limit_3):
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    codes = [client.get(PRODUCTS, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]


@pytest.mark.django_db
def test_a_valid_token_keeps_its_own_budget_when_its_address_is_spent(anon_limit_3, as_role):
    assert statuses(APIClient(), 3) == [401, 401, 401]
    assert statuses(as_role("owner"), 2) == [200, 200]


def test_every_server_process_spends_the_same_budget_atomically(tmp_path, migrated_sqlite):
    """Without Redis: gunicorn with two worker processes, eight clients at once; exactly the
    budget passes (a count read and written back by each process would let most through). The
    counts live in a table that `migrate` creates: the README's set-up needs no other step."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "SQLITE_PATH": str(migrated_sqlite),
        "API_ANON_THROTTLE_RATE": "15/hour",  # an hour's window: the burst does not straddle two
        "RUN_DIR": str(tmp_path / "run"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while status(f"{url}/healthz") != 200:
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        with ThreadPoolExecutor(8) as clients:
            answers = Counter(clients.map(lambda _: status(f"{url}{PRODUCTS}"), range(45)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert answers == {401: 15, 429: 30}


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None
