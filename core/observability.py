"""Per-request telemetry (the access log line and the HTTP metrics) and `/metrics`.

Both middleware run before tenant routing, so unknown hosts and early refusals (414,
suspended tenants) are measured too, and a scrape needs no tenant host.

Which tenant a request was for, and its plan, is the tenants app's to say: it sits
above the kernel, so it registers a `request_tenant_labels` provider from its
`AppConfig.ready()`; without one every request counts as plan "none".
"""

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from core.errors import NotAuthenticated
from core.exceptions import error_json_response
from core.metrics import (
    HTTP_DURATION,
    HTTP_QUERIES,
    HTTP_REQUESTS,
    TENANT_REQUESTS,
    exposition,
    method_label,
    route_label,
    status_class,
)

access_log = logging.getLogger("tessera.access")


@dataclass(frozen=True)
class TenantLabels:
    plan: str  # a bounded label: "none" (no tenant), "public" (the platform host), a plan name
    slug: str | None = None  # counted in the capped top-tenants series; None: not a tenant
    schema: str | None = None  # for the access log


_NO_TENANT = TenantLabels(plan="none")
_tenant_labels: list[Callable[[object], TenantLabels]] = []


def request_tenant_labels(provider: Callable[[object], TenantLabels]) -> Callable[[object], TenantLabels]:
    """Register the function that labels a request by its tenant (the last one wins)."""
    _tenant_labels[:] = [provider]
    return provider


def _labels_of(request) -> TenantLabels:
    return _tenant_labels[0](request) if _tenant_labels else _NO_TENANT


class _QueryCount:
    """Counts the queries of one request: a wrapper on the connection's execute."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _user_id(request) -> str | None:
    # Never evaluate the session user just for the log: that may cost a query. DRF
    # puts the token's user on the request itself, and the admin has loaded its own.
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return str(user.pk) if user.is_authenticated else None


class RequestTelemetryMiddleware:
    """One access log line and the HTTP metrics for every request.

    The line (logger `tessera.access`, INFO) carries the request id, tenant schema,
    user id, route, method, status, duration in ms and query count; never the query
    string, headers or body. Queries are counted by a wrapper on the connection for
    the request's duration, so counting costs an increment per query, not a log.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = _QueryCount()
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        seconds = time.perf_counter() - started

        route = route_label(getattr(request, "resolver_match", None))
        method = method_label(request.method)
        status = response.status_code
        tenant = _labels_of(request)
        HTTP_REQUESTS.labels(route=route, method=method, status=str(status), plan=tenant.plan).inc()
        HTTP_DURATION.labels(route=route, method=method, status_class=status_class(status), plan=tenant.plan).observe(
            seconds
        )
        HTTP_QUERIES.labels(route=route, method=method).observe(queries.count)
        if tenant.slug:
            TENANT_REQUESTS.labels(tenant=tenant.slug).inc()

        duration_ms = round(seconds * 1000, 1)
        user_id = _user_id(request)
        access_log.info(
            "%s %s %s %.1fms queries=%d tenant=%s user=%s",
            method,
            route,
            status,
            duration_ms,
            queries.count,
            tenant.schema or "-",
            user_id or "-",
            extra={
                "request_id": getattr(request, "request_id", None),
                "tenant": tenant.schema,
                "user_id": user_id,
                "route": route,
                "method": method,
                "status": status,
                "duration_ms": duration_ms,
                "queries": queries.count,
            },
        )
        return response


class MetricsEndpointMiddleware:
    """`/metrics` for Prometheus, on any host, to a caller presenting
    `Authorization: Bearer <METRICS_TOKEN>`; 401 to anyone else.

    With METRICS_TOKEN unset the path is not special (it answers like any unknown
    path): metrics are off rather than open.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = settings.METRICS_TOKEN
        if request.path != "/metrics" or not token:
            return self.get_response(request)
        presented = request.META.get("HTTP_AUTHORIZATION", "").encode()
        if not hmac.compare_digest(presented, f"Bearer {token}".encode()):
            return error_json_response(NotAuthenticated("A valid metrics token is required."))
        body, content_type = exposition()
        response = HttpResponse(body, content_type=content_type)
        response["Cache-Control"] = "no-store"
        return response
