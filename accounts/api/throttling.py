"""Request budgets for the API, kept in the "throttle" cache so every server process shares them.

A request with a valid token spends its token's budget; a signed-in session, its user's. Every
other request (no credentials, a bad or revoked token) spends the budget of its client address,
and does so during authentication: DRF authenticates before it checks permissions and throttles,
so a request refused with 401 would otherwise never be counted, and token guessing would be free.
"""

from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken

throttle_cache = ConnectionProxy(caches, "throttle")


class PerTokenThrottle(SimpleRateThrottle):
    """One budget per API token, or per signed-in user; requests without valid credentials were
    already counted against their address (see ``address_budget_spend``)."""

    scope = "api"
    cache = throttle_cache

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressThrottle(SimpleRateThrottle):
    """The budget of one client address (REMOTE_ADDR, or the address the trusted proxies saw:
    REST_FRAMEWORK NUM_PROXIES) for requests without valid credentials."""

    scope = "anon"
    cache = throttle_cache

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": f"anon:{self.get_ident(request)}"}


def address_budget_spend(request) -> None:
    """Count one request without valid credentials against its address; 429 once the budget is spent."""
    throttle = AddressThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(throttle.wait())
