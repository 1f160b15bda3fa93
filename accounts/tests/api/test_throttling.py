"""API budgets: shared by every server process, and spent by requests without valid credentials
(no token, a bad token) per client address, before authentication can refuse them."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.api.throttling import AddressThrottle

ROOT = Path(__file__).resolve().parents[3]
PRODUCTS = "/api/v1/products/"


@pytest.fixture
def anon_limit_3(monkeypatch):
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


def test_every_server_process_spends_the_same_budget(tmp_path):
    """Without Redis: two processes (as two gunicorn workers are) share one count."""
    env = {
        **os.environ,
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "API_ANON_THROTTLE_RATE": "3/min",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    manage = [sys.executable, "manage.py"]
    # `migrate` creates the table the counts live in (the README's set-up needs no other step).
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)  # noqa: S603
    code = textwrap.dedent(
        f"""
        import json
        from django.test import Client
        client = Client(REMOTE_ADDR="203.0.113.10")
        print(json.dumps([client.get("{PRODUCTS}").status_code for _ in range(2)]))
        """
    )
    seen = []
    for _ in range(2):  # one process after the other, each with its own memory
        run = subprocess.run(  # noqa: S603 - our own manage.py with code written here
            [*manage, "shell", "-c", code], cwd=ROOT, env=env, check=True, timeout=60, capture_output=True, text=True
        )
        seen += json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == [401, 401, 401, 429]
