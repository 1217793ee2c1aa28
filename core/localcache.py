"""Process-local copies of cache entries whose key names their version, and the
version stamps a request reads, fetched together.

**Versioned memos.** An entry stored under a key that names its version (the user's
cache version, the entitlements version, a session's `auth_version`...) never changes
meaning: every change to what it describes writes a new version, and later reads look
up a new key. Such an entry may be kept in the process as well, which saves the Redis
round trip and the unpickling with exactly the freshness of the Redis copy.
`VersionedMemo` keeps them:

- bounded: least recently used out first, at most `LOCAL_CACHE_ENTRIES` entries each,
  so a worker serving 10,000 tenants holds that many, never one per tenant without
  limit;
- with the TTL of the Redis entry, so a version write lost to a Redis outage is
  outlived no longer than the Redis copy would be;
- per process, and behind a lock (the development server is threaded).

**Request stamps.** The version keys every routed request reads (routing, the plan's
entitlements) are registered by their apps (`stamp_register`), and apps may name more
from the request itself (`stamps_provider_register`: accounts names the user's version
when the process already validated the request's token); all are fetched in one MGET
when routing begins (`stamps_prefetch`). `stamp()` answers from that for the rest of
the request, and from Redis outside requests (tasks, commands). A stamp a request
bumps itself (`stamp_bump`) is updated in its memo too. Only routing code (which runs
once per request, before anything reads a stamp) prefetches, and
`RequestStampsMiddleware` forgets the memo when the request ends, whatever happened.
"""

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import caches

from core.cache import cache_failures

_MISSING = object()
_registered: list[str] = []
_providers: list[Callable[[Any], list[str]]] = []
_memos: list["VersionedMemo"] = []
_request_stamps: ContextVar[dict[str, str | None] | None] = ContextVar("request_stamps", default=None)


class VersionedMemo:
    """A bounded, expiring, process-local map for values under versioned keys.

    Values are shared by every request of the process that reads them: callers store
    immutable values, or copy on the way out."""

    def __init__(self, name: str):
        self.name = name
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        _memos.append(self)

    def get(self, key, default=None):
        with self._lock:
            found = self._entries.get(key, _MISSING)
            if found is _MISSING:
                return default
            expires, value = found
            if expires < time.monotonic():
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return value

    def set(self, key, value, ttl: float) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > settings.LOCAL_CACHE_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def memos_clear() -> None:
    """Forget every memo of the process. For tests only: their rolled-back database
    hands out the same versions again (an `auth_version` goes back to what it was),
    which a real database never does."""
    for memo in _memos:
        memo.clear()


def stamp_register(key: str) -> str:
    """Name a version key that routed requests read: prefetched with the others."""
    if key not in _registered:
        _registered.append(key)
    return key


def stamps_provider_register(provider: Callable[[Any], list[str]]) -> None:
    """`provider(request)` names more version keys this request will read."""
    if provider not in _providers:
        _providers.append(provider)


def _offer(cache, key: str) -> str | None:
    """A version for a key that has none (lost, evicted, first use); None when Redis
    cannot take it (down): callers then bypass every memo."""
    offered = uuid.uuid4().hex
    return offered if cache.add(key, offered, timeout=None) else None


def stamps_prefetch(request) -> None:
    """Read every registered stamp, and those the providers name for `request`, in one
    round trip, and remember them until the request ends (`RequestStampsMiddleware`)."""
    keys = [*_registered, *(key for provider in _providers for key in provider(request))]
    cache = caches["platform"]
    failures = cache_failures()
    found = cache.get_many(keys)  # {} while Redis is down
    if cache_failures() != failures:
        _request_stamps.set(dict.fromkeys(keys))  # one timeout per request, not one per key
        return
    _request_stamps.set({key: found.get(key) or _offer(cache, key) for key in keys})


def stamp(key: str) -> str | None:
    """The current version under `key`, or None when Redis cannot say."""
    memo = _request_stamps.get()
    if memo is not None and key in memo:
        return memo[key]
    cache = caches["platform"]
    return cache.get(key) or _offer(cache, key)


def stamp_bump(key: str) -> None:
    """A new version: every entry under the old one is stale from now on."""
    value = uuid.uuid4().hex
    caches["platform"].set(key, value, timeout=None)
    memo = _request_stamps.get()
    if memo is not None:
        memo[key] = value


class RequestStampsMiddleware:
    """Forgets the request's stamps when it ends, however it ends (placed just before
    routing, which fetches them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_stamps.set(None)
        try:
            return self.get_response(request)
        finally:
            _request_stamps.reset(token)
