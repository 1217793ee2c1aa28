"""The API rate per tenant, from its plan (`api_requests_per_minute`).

A fixed one-minute window per tenant, counted in the throttle cache (which keeps
counting in-process while Redis is down, core.counters). Authenticated calls only:
DRF checks throttles after authentication, so anonymous traffic cannot spend a
tenant's budget. The count is read and written without a lock, so concurrent requests
may slip a few past the limit; that bound is the price of no round trip more.
"""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from core.counters import FallbackCache

_COUNTERS = FallbackCache(shared="throttle", local="throttle-local")


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
        now = time.time()
        window = int(now // 60)
        self.retry_after = 60 - int(now % 60)
        key = f"tenant-rate:{tenant.pk}:{window}"
        count = _COUNTERS.get(key, 0)
        if count >= limit:
            return False
        _COUNTERS.set(key, count + 1, 70)
        return True

    def wait(self):
        return self.retry_after
