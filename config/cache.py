"""A Redis cache that an outage cannot turn into errors.

The cache holds nothing that must survive (throttle counts, marks that coalesce jobs), and it
lives on the same Redis as the broker. So when Redis is unreachable the cache fails open: reads
miss, writes are dropped, ``add`` answers "added" and ``incr`` counts from zero (the caller goes
ahead, as if the key were new),
and after one failure the process stops asking Redis for a few seconds, so requests neither fail
nor wait on it. One warning per outage, one line when Redis is back.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Per process and Redis location: when to ask Redis again (monotonic seconds), and whether an
# outage is in progress. Shared by every thread's cache object.
_paused_until: dict[str, float] = {}
_outage: dict[str, bool] = {}


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that fails open (see the module docstring).

    OPTIONS: ``pause_seconds`` (default 5) besides the Redis connection options; short socket
    timeouts are the default, so that a Redis that hangs costs a request at most one timeout.
    """

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.pause_seconds = float(options.pop("pause_seconds", 5))
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._location = ",".join(self._servers)

    def _fail_open(self, fallback, operation, *args, **kwargs):
        if time.monotonic() < _paused_until.get(self._location, 0.0):
            return fallback
        try:
            result = operation(*args, **kwargs)
        except RedisError as exc:
            _paused_until[self._location] = time.monotonic() + self.pause_seconds
            if not _outage.get(self._location):
                _outage[self._location] = True
                logger.warning(
                    "Cache unreachable (%s): serving without it (no throttling, no job coalescing) and "
                    "retrying every %s s.",
                    exc,
                    self.pause_seconds,
                )
            return fallback
        if _outage.pop(self._location, False):
            logger.warning("Cache reachable again.")
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open(True, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._fail_open(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open(False, super().touch, key, timeout, version)

    def incr(self, key, delta=1, version=None):
        return self._fail_open(delta, super().incr, key, delta, version)  # as if the key were new

    def delete(self, key, version=None):
        return self._fail_open(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._fail_open({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._fail_open(False, super().has_key, key, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._fail_open(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._fail_open(None, super().delete_many, keys, version)
