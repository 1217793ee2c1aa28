"""The API rate per tenant, from its plan (`api_requests_per_minute`).

A fixed one-minute window per tenant, counted in the throttle cache (which keeps
counting in-process while Redis is down, core.counters). Authenticated calls only:
DRF checks throttles after authentication, so anonymous traffic cannot spend a
tenant's budget. Refused calls are counted too; the window ends all the same.

The shared count is an atomic increment, so concurrent requests each get their own
total. A process need not send every request's increment on its own. It holds back
the requests it counted and sends the counts of every tenant it served together, in
one pipeline: at most a second after the last send, or as soon as one tenant's held
count reaches 1 % of its limit (at most 32 requests). Below a limit of 200 a minute it
holds none back: every request is counted in Redis as it comes.

The bound: each process serving a tenant lets through at most 1 % of the limit beyond
it (a tenant the process has not seen this window starts from its own count, and is
corrected at the next send). The cost: a busy tenant on a limit of 3,000 a minute pays
one round trip per 30 requests instead of one per request, and traffic spread over
many tenants (each well under its share) pays about one round trip a second per
process instead of one per request.
"""

import threading
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from core.counters import FallbackCache
from core.localcache import VersionedMemo

_COUNTERS = FallbackCache(shared="throttle", local="throttle-local")
_clock = time.time  # the window's clock (tests hold it still)
_monotonic = time.monotonic  # the clock of sends (tests hold it still)
_HELD_MAX = 32
_HELD_SECONDS = 1.0
_WINDOW_TTL = 70


class _Held:
    """This process's view of one tenant's window: the shared total it last read, and
    the requests it counted since without sending them."""

    __slots__ = ("pending", "seen")

    def __init__(self):
        self.seen, self.pending = 0, 0


# Bounded like every per-process memo (core.localcache): one entry per tenant and window.
_held = VersionedMemo("tenant-rate")
# The windows with requests not sent yet: emptied by every send, so it holds at most
# the tenants served in the last second.
_unsent: dict[str, _Held] = {}
_lock = threading.Lock()
_sent_at = 0.0


def _send(now: float) -> None:
    """Send every held count in one round trip and read back each shared total."""
    global _sent_at
    totals = _COUNTERS.incr_many({key: held.pending for key, held in _unsent.items()}, _WINDOW_TTL)
    for key, held in _unsent.items():
        held.seen, held.pending = totals[key], 0
    _unsent.clear()
    _sent_at = now


def _count(key: str, limit: int) -> int:
    """The window's total so far, this request included (as this process knows it)."""
    batch = min(_HELD_MAX, limit // 100)
    if batch <= 1:
        return _COUNTERS.incr(key, _WINDOW_TTL)
    with _lock:
        held = _held.get(key)
        if held is None:
            held = _unsent.get(key) or _Held()
            _held.set(key, held, _WINDOW_TTL)
        held.pending += 1
        _unsent[key] = held
        now = _monotonic()
        if held.pending >= batch or now - _sent_at >= _HELD_SECONDS:
            _send(now)
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
