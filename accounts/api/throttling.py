"""Request budgets for the API, counted in the "throttle" cache so every server process shares them.

A request with a valid token spends its token's budget; a signed-in session, its user's. Every
other request (no credentials, a bad or revoked token) spends the budget of its client address,
and does so during authentication: DRF authenticates before it checks permissions and throttles,
so a request refused with 401 would otherwise never be counted, and token guessing would be free.

Budgets are fixed windows (N requests per minute, the minute starting on the clock) whose counts
go up atomically: with Redis an INCR; in the database (no Redis) a transaction that holds a lock
on the key. So concurrent requests in many processes cannot all read the same count and pass.
"""

import math
import time

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiToken

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def count_up(key: str, seconds: int) -> int:
    """Add one to the count under ``key`` (kept ``seconds``), atomically; return the new count."""
    cache = caches["throttle"]
    if isinstance(cache, DatabaseCache):
        return _count_up_in_database(cache, key, seconds)
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new window
        cache.add(key, 1, seconds)
        return 1


def _count_up_in_database(cache: DatabaseCache, key: str, seconds: int) -> int:
    alias = router.db_for_write(cache.cache_model_class)
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
        # On SQLite the transaction began by taking the write lock (transaction_mode IMMEDIATE).
        count = (cache.get(key) or 0) + 1
        cache.set(key, count, seconds)
    return count


class WindowThrottle(BaseThrottle):
    """``THROTTLE_RATES[scope]`` requests per window, per identity (``identify``)."""

    scope = ""
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def identify(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        ident = self.identify(request)
        if ident is None:
            return True
        number, period = self.THROTTLE_RATES[self.scope].split("/")
        seconds = PERIODS[period[0]]
        now = time.time()
        window = int(now // seconds)
        self.retry_after = math.ceil((window + 1) * seconds - now)
        return count_up(f"throttle:{self.scope}:{ident}:{window}", seconds) <= int(number)

    def wait(self) -> float:
        return self.retry_after


class PerTokenThrottle(WindowThrottle):
    """One budget per API token, or per signed-in user; requests without valid credentials were
    already counted against their address (see ``address_budget_spend``)."""

    scope = "api"

    def identify(self, request) -> str | None:
        if isinstance(request.auth, ApiToken):
            return f"token:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return None


class AddressThrottle(WindowThrottle):
    """The budget of one client address (REMOTE_ADDR, or the address the trusted proxies saw:
    REST_FRAMEWORK NUM_PROXIES) for requests without valid credentials."""

    scope = "anon"

    def identify(self, request) -> str:
        return f"address:{self.get_ident(request)}"


def address_budget_spend(request) -> None:
    """Count one request without valid credentials against its address; 429 once the budget is spent."""
    throttle = AddressThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(throttle.wait())
