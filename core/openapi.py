"""Shared OpenAPI pieces: the error responses every endpoint documents."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The body of every error that is not about individual fields."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable reason, e.g. insufficient_stock.")


_ERROR = ErrorSerializer
ERRORS = {
    400: OpenApiResponse(
        response=OpenApiTypes.OBJECT,
        description="Invalid input: an object naming each field in error, with a list of messages.",
    ),
    401: OpenApiResponse(_ERROR, description="Missing, invalid, expired or revoked token, or a token of another host."),
    403: OpenApiResponse(_ERROR, description="Your role does not allow this, or the tenant is suspended."),
    404: OpenApiResponse(_ERROR, description="Not found in this tenant."),
    409: OpenApiResponse(_ERROR, description="Conflicts with the current state (duplicate, stock, transition, owner)."),
    429: OpenApiResponse(_ERROR, description="Too many attempts; retry later."),
}


def errors(*codes: int) -> dict:
    """`responses={200: X, **errors(400, 401)}` in `extend_schema`."""
    return {code: ERRORS[code] for code in codes}
