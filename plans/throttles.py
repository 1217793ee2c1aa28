"""The API rate per tenant, from its plan (`api_requests_per_minute`).

A fixed one-minute window per tenant, counted in the throttle cache (which keeps
counting in-process while Redis is down, core.counters). Authenticated calls only:
DRF checks throttles after authentication, so anonymous traffic cannot spend a
tenant's budget. Refused calls are counted too; the window ends all the same.

The shared count is an atomic increment, so concurrent requests each get their own
total. A process need not send every request's increment on its own: it may hold back
up to 1 % of the limit (at most 32 requests, and for at most a second) and send them
as one. Below a limit of 200 a minute it holds none back: every request is counted in
Redis as it comes. The bound: each process serving a tenant lets through at most 1 %
of the limit beyond it; a busy tenant on a limit of 3,000 a minute costs one round trip
per 30 requests instead of one per request.
"""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from core.counters import FallbackCache
from core.localcache import VersionedMemo

_COUNTERS = FallbackCache(shared="throttle", local="throttle-local")
_clock = time.time  # the window's clock (tests hold it still)
_HELD_MAX = 32
_HELD_SECONDS = 1.0
_WINDOW_TTL = 70


class _Held:
    """This process's view of one tenant's window: the shared total it last read, and
    the requests it counted since without sending them."""

    __slots__ = ("pending", "seen", "synced_at")

    def __init__(self):
        self.seen, self.pending, self.synced_at = 0, 0, 0.0


# Bounded like every per-process memo (core.localcache): one entry per tenant and window.
_held = VersionedMemo("tenant-rate")


def _count(key: str, limit: int) -> int:
    """The window's total so far, this request included (as this process knows it)."""
    batch = min(_HELD_MAX, limit // 100)
    if batch <= 1:
        return _COUNTERS.incr(key, _WINDOW_TTL)
    held = _held.get(key)
    if held is None:
        held = _Held()
        _held.set(key, held, _WINDOW_TTL)
    held.pending += 1
    now = time.monotonic()
    if held.pending >= batch or now - held.synced_at >= _HELD_SECONDS:
        held.seen = _COUNTERS.incr(key, _WINDOW_TTL, by=held.pending)
        held.pending, held.synced_at = 0, now
    return held.seen + held.pending


class TenantRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        if not settings.TENANT_API_RATE_LIMIT:
            return True
        tenant = getattr(request, "tenant", None)
        evaluated = getattr(request, "entitlements", None)
        if tenant is None or evaluated is None or not (request.user and request.user.is_authenticated):
            return True
        limit = evaluated.quota("api_requests_per_minute")
        if limit is None:
            return True
        now = _clock()
        self.retry_after = 60 - int(now % 60)
        return _count(f"tenant-rate:{tenant.pk}:{int(now // 60)}", limit) <= limit

    def wait(self):
        return self.retry_after
