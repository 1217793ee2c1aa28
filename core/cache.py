"""django-redis's client, counting hits and misses for the cache hit-rate metric.

Counted in the client, below the backend, so every read through Django's cache API
(`get`, `get_many`, `get_or_set`) is seen whichever app made it. The cache alias comes
from `OPTIONS["METRICS_NAME"]` in CACHES: a client is not told which alias it serves.
"""

from typing import Any

from django_redis.client import DefaultClient

from core.metrics import CACHE_REQUESTS

_MISSING = object()


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
            raise
        self._hits.inc(len(found))
        self._misses.inc(len(keys) - len(found))
        return found
