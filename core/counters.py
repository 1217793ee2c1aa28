"""A cache for counters that must keep counting while Redis is down: throttles.

The `default` and `platform` caches ignore Redis failures (django-redis's
IGNORE_EXCEPTIONS): a failed read is a miss and the caller asks PostgreSQL. A throttle
cannot do that, since a missing counter means "nothing counted yet": an outage would
grant unlimited password guesses. So throttles read and write through `FallbackCache`,
which uses a cache that raises (the shared budget, in Redis) and, when that fails,
a per-process LocMem cache.

During an outage each worker process therefore keeps its own counters: the budget is
multiplied by the number of processes, never unbounded. When Redis answers again the
shared counters are used again; what was counted in memory is not copied back.
"""

import logging
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What django-redis re-raises from a cache without IGNORE_EXCEPTIONS when Redis fails.
REDIS_ERRORS = (RedisError, OSError)


class FallbackCache:
    """`get`, `set` (what DRF's throttles use), `incr` and `incr_many` on `shared`, or
    on `local` while the shared one fails. The switch each way is logged once, not on every call."""

    def __init__(self, *, shared: str, local: str):
        self.shared, self.local = shared, local
        self.degraded = False

    def _failed(self, exc: Exception) -> None:
        if not self.degraded:
            self.degraded = True
            logger.warning("Cache %r unavailable (%s): counting in process memory.", self.shared, exc)

    def _answered(self) -> None:
        if self.degraded:
            self.degraded = False
            logger.warning("Cache %r available again: counting there.", self.shared)

    def get(self, key, default=None):
        try:
            value = caches[self.shared].get(key, default)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return caches[self.local].get(key, default)
        self._answered()
        return value

    def incr(self, key, timeout: int, by: int = 1) -> int:
        """Count `by` more under `key` and answer the total (`incr_many` of one key)."""
        return self.incr_many({key: by}, timeout)[key]

    def incr_many(self, counts: dict[str, int], timeout: int) -> dict[str, int]:
        """Count more under several keys and answer each key's total, in one round
        trip: each key is created at 0 with `timeout` if absent, then incremented (a
        pipeline, so concurrent callers each get their own total). In process memory
        while the shared cache fails."""
        cache: Any = caches[self.shared]
        try:
            pipe = cache.client.get_client(write=True).pipeline(transaction=False)
            for key, by in counts.items():
                full_key = cache.make_key(key)
                pipe.set(full_key, 0, ex=timeout, nx=True)
                pipe.incrby(full_key, by)
            answers = pipe.execute()
        except REDIS_ERRORS as exc:
            self._failed(exc)
            local, totals = caches[self.local], {}
            for key, by in counts.items():
                totals[key] = local.get(key, 0) + by
                local.set(key, totals[key], timeout)
            return totals
        self._answered()
        return dict(zip(counts, answers[1::2], strict=True))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT) -> None:
        try:
            caches[self.shared].set(key, value, timeout)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            caches[self.local].set(key, value, timeout)
        else:
            self._answered()
