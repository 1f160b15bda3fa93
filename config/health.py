"""Health endpoints for a load balancer or a supervisor.

``/healthz``: the process is up and serving (touches nothing else). ``/readyz``: the database and
the broker answer; 503 while either does not, with a JSON body naming which. Both are answered
before every other middleware: no host check (a probe may use the machine's address), no HTTPS
redirect, no session. Neither says more than ok or unreachable.
"""

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from backlog.jobs import in_process

PROBE_TIMEOUT_SECONDS = 1


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unreachable ({exc.__class__.__name__})"
    return "ok"


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if in_process() or not url.startswith(("redis://", "rediss://")):
        return "ok"  # jobs run in this process: nothing to reach
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"unreachable ({exc.__class__.__name__})"
    finally:
        client.close()
    return "ok"


def readiness() -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


class HealthMiddleware:
    """First in MIDDLEWARE: answers /healthz and /readyz, passes everything else on."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        path = request.path_info.rstrip("/")
        if path == "/healthz":
            return JsonResponse({"status": "ok"})
        if path == "/readyz":
            return readiness()
        return self.get_response(request)
