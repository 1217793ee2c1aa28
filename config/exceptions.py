"""One place that turns errors into API responses.

Domain errors raised by services carry an HTTP status and a stable `code`; DRF's own
errors get their `code` added so every error body reads `{"detail": ..., "code": ...}`
(or DRF's field dict for validation errors).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError


def domain_error_response(exc: DomainError) -> Response:
    if exc.field and exc.status_code == status.HTTP_400_BAD_REQUEST:
        return Response({exc.field: [exc.message]}, status=exc.status_code)
    return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and "detail" in response.data and "code" not in response.data:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        response.data["code"] = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    return response
