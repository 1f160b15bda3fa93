from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken


class PerTokenThrottle(SimpleRateThrottle):
    """One budget per API token (or per signed-in user, or per address when anonymous)."""

    scope = "api"

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            self.rate = self.THROTTLE_RATES["anon"]
            self.num_requests, self.duration = self.parse_rate(self.rate)
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
