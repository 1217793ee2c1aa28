"""The one place that turns errors into API responses.

Application errors carry an HTTP status and a stable `code`; DRF's own errors get their
`code` added, so every error body reads `{"detail": ..., "code": ...}` (or DRF's field
dict for invalid input). Code outside DRF (middleware, Django's 400/403/404/500 handlers)
answers through `error_json_response`, so its bodies have the same shape.
"""

import logging

from django.core import exceptions as django_errors
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, BadRequest, DatabaseUnavailable, RequestTooLarge, TooManyFields

# The challenge a 401 carries (RFC 6750), the same one simplejwt's authentication sends.
BEARER_CHALLENGE = 'Bearer realm="api"'

# What PostgreSQL raises when it cannot serve a request right now, as Django wraps it:
# a lost connection or a server shutting down (AdminShutdown), a statement or lock
# timeout (QueryCanceled, LockNotAvailable), a deadlock or serialization failure; and
# InterfaceError for a connection already closed. All are worth retrying later.
DATABASE_ERRORS = (OperationalError, InterfaceError)

logger = logging.getLogger(__name__)


def error_body(exc: ApplicationError) -> dict:
    if exc.field and exc.status_code == status.HTTP_400_BAD_REQUEST:
        return {exc.field: [exc.message]}
    return {"detail": exc.message, "code": exc.code, **exc.extra}


def _headers(exc: ApplicationError) -> dict[str, str]:
    headers = {"WWW-Authenticate": BEARER_CHALLENGE} if exc.status_code == status.HTTP_401_UNAUTHORIZED else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return headers


def error_json_response(exc: ApplicationError) -> JsonResponse:
    """For code that answers before DRF runs (middleware, URL resolver handlers)."""
    response = JsonResponse(error_body(exc), status=exc.status_code)
    for name, value in _headers(exc).items():
        response[name] = value
    return response


def error_for_django(exc: Exception | None) -> ApplicationError:
    """The application error for what Django refuses as a bad request (its handler400
    cases): a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, too many fields a 400.
    Other suspicious requests get a plain 400 that repeats nothing of the request."""
    if isinstance(exc, django_errors.RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, django_errors.TooManyFieldsSent | django_errors.TooManyFilesSent):
        return TooManyFields()
    return BadRequest()


def error_for_database(exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 to answer for a database failure, or None if `exc` is not one. Logged
    here, once, since the answer is not a 500 with a traceback."""
    if not isinstance(exc, DATABASE_ERRORS):
        return None
    logger.warning("Database unavailable: %s: %s", exc.__class__.__name__, str(exc).strip()[:200])
    return DatabaseUnavailable()


def exception_handler(exc, context):
    if isinstance(exc, django_errors.SuspiciousOperation | django_errors.BadRequest):
        exc = error_for_django(exc)
    exc = error_for_database(exc) or exc
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc), status=exc.status_code, headers=_headers(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, list):
        # A ValidationError raised with a bare list (DRF's SearchFilter does, for a NUL
        # in ?search=): the documented shape is an object.
        response.data = {"detail": " ".join(str(item) for item in response.data), "code": "invalid"}
    if isinstance(response.data, dict) and "detail" in response.data and "code" not in response.data:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        response.data["code"] = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    return response
