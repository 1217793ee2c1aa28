"""Shared OpenAPI pieces: the error responses every endpoint documents, and the schema
class that documents the Idempotency-Key header on every POST."""

import copy
import re
from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from core import idempotency


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
    403: OpenApiResponse(
        _ERROR,
        description=(
            "Your role does not allow this, or the tenant is suspended. `module_disabled` (with `module`): "
            "the endpoint's module is not in the tenant's plan. `quota_exceeded` (with `quota`, `limit`, "
            "`used`): a create beyond the plan's quota, nothing written."
        ),
    ),
    404: OpenApiResponse(_ERROR, description="Not found in this tenant."),
    409: OpenApiResponse(_ERROR, description="Conflicts with the current state (duplicate, stock, transition, owner)."),
    413: OpenApiResponse(_ERROR, description="The request body is over the size limit (code request_too_large)."),
    414: OpenApiResponse(_ERROR, description="The URL is over the length limit (code uri_too_long)."),
    429: OpenApiResponse(_ERROR, description="Too many attempts; retry later."),
}


def errors(*codes: int) -> dict:
    """`responses={200: X, **errors(400, 401)}` in `extend_schema`."""
    return {code: ERRORS[code] for code in codes}


# Printable ASCII, not only spaces (core.idempotency.key_is_valid).
_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": idempotency.KEY_MAX_LENGTH,
    "pattern": "^[ -~]*[!-~][ -~]*$",
}
IDEMPOTENCY_KEY = OpenApiParameter(
    name=idempotency.HEADER,
    type=_KEY_SCHEMA,
    location=OpenApiParameter.HEADER,
    description=(
        "Makes a retry safe: the same key with the same request within 24 hours returns the first "
        "answer (with `Idempotent-Replayed: true`) instead of doing the work again; the same key with "
        "another request answers 422 `idempotency_key_reused`, and while the first is still running, 409 "
        "`idempotency_key_in_use`. Keys are yours alone, per tenant; use a new random one (a UUID) per "
        "operation. 1 to 255 printable ASCII characters."
    ),
)
IDEMPOTENCY_KEY_IGNORED = OpenApiParameter(
    name=idempotency.HEADER,
    type=_KEY_SCHEMA,
    location=OpenApiParameter.HEADER,
    description=(
        "Accepted but not applied here: this endpoint takes or returns credentials, which are never "
        "stored or replayed. It is safe to retry as it is. 1 to 255 printable ASCII characters."
    ),
)
_REPLAYED = {
    idempotency.REPLAYED_HEADER: {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present when this is the stored answer to an earlier request with the same Idempotency-Key.",
    }
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, plus what the kernel does to every POST (core.idempotency): the
    Idempotency-Key header, the answers it may cause, and the replay header."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        for name, prop in schema.get("properties", {}).items():
            # drf-spectacular writes a blank-able string with a pattern as oneOf [the
            # string, an empty string]; our patterns already admit "", so "" would match
            # both branches and a strict validator (a fuzzer) calls it invalid.
            branches = prop.get("oneOf")
            if (
                isinstance(branches, list)
                and len(branches) == 2
                and branches[1] == {"type": "string", "maxLength": 0}
                and re.fullmatch(branches[0].get("pattern", "(?!)"), "")
            ):
                schema["properties"][name] = {**{k: v for k, v in prop.items() if k != "oneOf"}, **branches[0]}
        return schema

    def get_auth(self):
        # Anonymous-only operations (sign-in, the API root) are written with no security
        # requirement rather than `[{}]`: the same meaning, and a generated client (see
        # config/tests/test_generated_client.py) then calls them with its plain client.
        auth = super().get_auth()
        return [] if auth == [{}] else auth

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method != "POST":
            return parameters
        return [*parameters, IDEMPOTENCY_KEY_IGNORED if idempotency.is_exempt(self.view) else IDEMPOTENCY_KEY]

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return operation
        self._document_common_errors(operation)
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") == "query" and schema.get("type") == "string" and "pattern" not in schema:
                schema["pattern"] = "^[^\\u0000]*$"  # a NUL is refused (400), as in bodies
        if self.method != "POST":
            return operation
        responses = operation["responses"]
        self._document_error(responses, "400", "A malformed Idempotency-Key (code idempotency_key_invalid).")
        if idempotency.is_exempt(self.view):
            return operation
        for code, response in responses.items():
            if code < "500" and int(code) not in (401, 403, 429):
                response.setdefault("headers", {}).update(copy.deepcopy(_REPLAYED))
        self._document_error(
            responses, "409", "A request with the same Idempotency-Key is still in progress (idempotency_key_in_use)."
        )
        self._document_error(
            responses, "422", "The Idempotency-Key was used for a different request (idempotency_key_reused)."
        )
        return operation

    def _document_common_errors(self, operation: dict) -> None:
        """Answers any operation may give whatever its view says, so the schema never
        lacks them: a URL over the limit (414, core.limits), a body over the limit (413,
        core.parsers), a page past the end of a list (404), throttling (429)."""
        responses = operation["responses"]
        self._document_error(responses, "414", "The URL is over the length limit (code uri_too_long).")
        if self.method in ("POST", "PUT", "PATCH"):
            self._document_error(responses, "413", "The request body is over the size limit (code request_too_large).")
        if self.method == "GET" and self._is_list_view() and self._get_paginator() is not None:
            self._document_error(responses, "404", "The page does not exist (code not_found).")
            self._document_field_errors(responses, "A page_size or filter value that is not what it should be.")
        if getattr(self.view, "throttle_classes", None):
            self._document_error(responses, "429", "Too many requests; retry after Retry-After seconds (throttled).")

    def _document_field_errors(self, responses: dict, description: str) -> None:
        if "400" not in responses:
            responses["400"] = {
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
                "description": description,
            }

    def _document_error(self, responses: dict, code: str, description: str) -> None:
        """Add `description` to the operation's answer `code`, or add that answer."""
        if code in responses:
            existing = responses[code].get("description", "")
            also = description[0].lower() + description[1:]
            if also not in existing:
                responses[code]["description"] = f"{existing} Or: {also}" if existing else description
            return
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses[code] = {"content": {"application/json": {"schema": dict(error)}}, "description": description}


_PY_SPACE = (
    "\\t\\n\\u000b\\u000c\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)


class StringFieldExtension(OpenApiSerializerFieldExtension):
    """core.serializers' string fields refuse NUL characters (as DRF's CharField does);
    the schema says so, so a client generating valid data never sends one."""

    target_class = "core.serializers.StringField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        regexes = [v.regex.pattern for v in self.target.validators if isinstance(v, RegexValidator)]
        if direction == "request" and regexes:
            schema["pattern"] = regexes[0]  # the field's own rule, which also refuses NUL
        elif direction == "request" and "pattern" not in schema:
            if not self.target.allow_blank and self.target.trim_whitespace:
                # Trimmed, so blank unless something other than space is in it: the
                # characters Python's str.strip() removes, named one by one (a regex's
                # \s differs between dialects: ECMAScript's leaves out U+0085 and U+001C-1F).
                schema["pattern"] = f"^[^\\u0000]*[^{_PY_SPACE}\\u0000][^\\u0000]*$"
            else:
                schema["pattern"] = "^[^\\u0000]*$"
        return schema


def decimal_pattern(*, max_digits: int, decimal_places: int, positive: bool) -> str:
    """The strings a non-negative (or strictly positive) decimal field accepts: at
    least one digit, at most `max_digits - decimal_places` before the point and
    `decimal_places` after it, and for `positive` at least one non-zero digit."""
    whole, frac = max_digits - decimal_places, decimal_places
    if not positive:
        return rf"^(?:\d{{1,{whole}}}(?:\.\d{{0,{frac}}})?|\.\d{{1,{frac}}})$"
    fractions = "|".join(rf"0{{{k}}}[1-9]\d{{0,{frac - k - 1}}}" for k in range(frac))
    return rf"^(?:0?[1-9]\d{{0,{whole - 1}}}(?:\.\d{{0,{frac}}})?|0?\.(?:{fractions}))$"


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """core.serializers.DecimalField in requests: a string whose pattern says which
    values the field takes (sign, digits before and after the point), so a client that
    follows the schema sends nothing the field refuses."""

    target_class = "core.serializers.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        minimum = field.min_value
        smallest = Decimal(1).scaleb(-field.decimal_places)
        if direction != "request" or minimum is None or minimum not in (0, smallest):
            return schema
        schema.update(
            type="string",
            format="decimal",
            pattern=decimal_pattern(
                max_digits=field.max_digits, decimal_places=field.decimal_places, positive=minimum == smallest
            ),
        )
        schema.pop("minimum", None)
        return schema
