"""Middleware that runs before tenant routing: health probes and request ids."""

import logging
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import JsonResponse

from core import context
from core.health import readiness_checks
from core.http import client_ip

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class HealthCheckMiddleware:
    """Answer `/healthz` and `/readyz` on any host.

    Probes from a load balancer or orchestrator address the container by IP, not by a
    tenant host, so these must not depend on routing, ALLOWED_HOSTS or the database
    (liveness) being up.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            checks = readiness_checks()
            ready = all(result == "ok" for result in checks.values())
            return JsonResponse(
                {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
            )
        return self.get_response(request)


class RequestIdMiddleware:
    """Give every request an id (a sane incoming X-Request-ID, or a new one).

    The id goes back in the response header, into every log line (RequestIdLogFilter)
    and into audit events through `core.context`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        meta = context.RequestMeta(
            request_id=request_id,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            source="admin" if request.path.startswith("/admin/") else "api",
        )
        # Kept until the response is closed (request_finished), not just until this
        # returns: Django logs 4xx/5xx responses after the middleware chain has run.
        context.set_meta(meta)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished)
def _forget_request_meta(sender, **kwargs):
    context.set_meta(context.RequestMeta())


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = context.current_meta().request_id or "-"
        return True
