"""django-redis's client, counting hits and misses for the cache hit-rate metric, and
remembering when Redis last failed in this process.

Counted in the client, below the backend, so every read through Django's cache API
(`get`, `get_many`, `get_or_set`) is seen whichever app made it. The cache alias comes
from `OPTIONS["METRICS_NAME"]` in CACHES: a client is not told which alias it serves.

`cache_failed_within(seconds)`: whether any read or write failed here lately. An
invalidation written while Redis was unreachable is lost, and a Redis that comes back
(restarted with its data, or after a network split) still holds what it held before:
caches whose staleness matters (accounts.selectors.user_for_request) distrust their
entries for a while after a failure this process saw.
"""

import time
from typing import Any

from django_redis.client import DefaultClient

from core.metrics import CACHE_REQUESTS

_MISSING = object()
_failed_at: float | None = None
_failures = 0


def cache_failed_within(seconds: float) -> bool:
    return _failed_at is not None and time.monotonic() - _failed_at < seconds


def cache_failures() -> int:
    """How many cache calls failed in this process so far: compared before and after a
    call, it tells a failure (answered as a miss) from a real miss."""
    return _failures


def _failed() -> None:
    global _failed_at, _failures
    _failed_at = time.monotonic()
    _failures += 1


class MeasuredClient(DefaultClient):
    def __init__(self, server, params: dict[str, Any], backend) -> None:
        super().__init__(server, params, backend)
        name = str(params.get("OPTIONS", {}).get("METRICS_NAME", "unnamed"))
        self._hits = CACHE_REQUESTS.labels(cache=name, result="hit")
        self._misses = CACHE_REQUESTS.labels(cache=name, result="miss")
        self._errors = CACHE_REQUESTS.labels(cache=name, result="error")

    def get(self, key: str, default: Any | None = None, version: int | None = None, client=None) -> Any:
        try:
            value = super().get(key, default=_MISSING, version=version, client=client)
        except Exception:
            self._errors.inc()
            _failed()
            raise
        if value is _MISSING:
            self._misses.inc()
            return default
        self._hits.inc()
        return value

    def get_many(self, keys, version: int | None = None, client=None) -> dict:
        try:
            found = super().get_many(keys, version=version, client=client)
        except Exception:
            self._errors.inc(len(keys))
            _failed()
            raise
        self._hits.inc(len(found))
        self._misses.inc(len(keys) - len(found))
        return found

    def set(self, *args, **kwargs) -> bool:
        try:
            return super().set(*args, **kwargs)
        except Exception:
            _failed()
            raise

    def add(self, *args, **kwargs) -> bool:
        try:
            return super().add(*args, **kwargs)
        except Exception:
            _failed()
            raise
