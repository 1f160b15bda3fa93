"""/healthz and /readyz, as a load balancer sees them."""

import socket

import pytest
from django.db import OperationalError
from django.test import Client, override_settings


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def test_healthz_answers_without_the_database_for_any_host():
    # No django_db mark: any database access would fail this test.
    response = Client(HTTP_HOST="10.1.2.3").get("/healthz")  # a probe by address, not in ALLOWED_HOSTS
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_the_database_answers_and_jobs_run_in_process():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_while_the_broker_is_unreachable():
    broker = f"redis://127.0.0.1:{dead_port()}/0"
    with override_settings(CELERY_BROKER_URL=broker, CELERY_TASK_ALWAYS_EAGER=False):
        response = Client().get("/readyz/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_follows_the_broker_down_and_back(redis_server):
    with override_settings(CELERY_BROKER_URL=redis_server.url, CELERY_TASK_ALWAYS_EAGER=False):
        assert Client().get("/readyz").status_code == 200
        redis_server.stop()
        assert Client().get("/readyz").status_code == 503
        redis_server.start()
        assert Client().get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_is_503_while_the_database_is_unreachable(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("config.health.connection.cursor", refuse)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unreachable (OperationalError)", "broker": "ok"}
