"""Django's error handlers (handler400/403/404/500, CSRF failures), answering in the
API's JSON error shape. Both URLconfs name them. With DEBUG on, Django skips handler404:
ApiNotFoundMiddleware keeps the API's 404s JSON then."""

import sys

from django.http import JsonResponse

from core.errors import CsrfFailed, Forbidden, NotFound
from core.exceptions import error_for_database, error_for_django, error_json_response


def bad_request(request, exception=None):
    """Django's 400s, among them a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413) and too
    many fields, when read outside DRF (the admin's forms, a middleware)."""
    return error_json_response(error_for_django(exception))


def permission_denied(request, exception=None):
    return error_json_response(Forbidden())


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW. Only session-authenticated forms (the admin) check CSRF."""
    return error_json_response(CsrfFailed())


def not_found(request, exception=None):
    return error_json_response(NotFound())


def server_error(request):
    """Django calls this while handling the exception, outside DRF: a middleware's query
    (tenant routing on a cold cache) failing with the database is a 503, not a 500."""
    unavailable = error_for_database(sys.exc_info()[1])
    if unavailable is not None:
        return error_json_response(unavailable)
    return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)


class ApiNotFoundMiddleware:
    """A 404 under `/api/` is the API's JSON `not_found`, DEBUG or not.

    With DEBUG off, Django answers an unknown path with handler404 (JSON already); with
    DEBUG on it renders its HTML debug page instead, which no API client can read. Placed
    above CommonMiddleware, so APPEND_SLASH has redirected first where it could.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path_info.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return error_json_response(NotFound())
        return response
