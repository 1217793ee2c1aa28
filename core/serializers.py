"""Serializer fields that take only what the OpenAPI schema promises.

DRF's string fields turn a number into a string (`42` becomes `"42"`), so a client
that sends the wrong type is silently accepted where the schema says `string`. These
refuse anything but a string with DRF's own `invalid` message, and `ModelSerializer`
maps the models' text columns to them. Input serializers use them everywhere.
Decimals likewise take strings only, never JSON numbers (floats).
"""

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class _StringOnly:
    def run_validation(self, data=serializers.empty):
        # The schema's maxLength counts what was sent; DRF trims whitespace first, so a
        # value over the limit only by its surrounding whitespace would pass: refuse it
        # as sent (found by the fuzzer).
        max_length = getattr(self, "max_length", None)
        if isinstance(data, str) and max_length is not None and len(data) > max_length:
            self.fail("max_length", max_length=max_length)
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(_StringOnly, serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}


class SlugField(_StringOnly, serializers.SlugField):
    pass


class EmailField(_StringOnly, serializers.EmailField):
    pass


class DecimalField(serializers.DecimalField):
    """Decimals come in as strings, as they go out: a JSON number is a binary float in
    most clients (0.1 + 0.2), and the schema says string. Refused otherwise."""

    default_error_messages = {"invalid": 'A number written as a string is required, e.g. "12.5".'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's also takes 0, 1, "yes", "on"..."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StringField,
        models.TextField: StringField,
        models.SlugField: SlugField,
        models.EmailField: EmailField,
        models.DecimalField: DecimalField,
        models.BooleanField: BooleanField,
    }


class QuerySerializer(serializers.Serializer):
    """For a view's query parameters: DRF reads a query string as an HTML form, where
    `?status=` means "not given"; here an empty value is refused unless the field
    takes blank strings, as the schema's minLength says."""

    def to_internal_value(self, data):
        empty = {
            name: ["This parameter may not be empty."]
            for name, field in self.fields.items()
            if hasattr(data, "get") and data.get(name) == "" and not getattr(field, "allow_blank", False)
        }
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class PersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = StringField()


@extend_schema_field(PersonSerializer(allow_null=True))
class PersonField(serializers.Field):
    """Read-only `{id, email}` (or null) from the `<prefix>_id` / `<prefix>_email` columns
    that keep who did something without a foreign key into the public schema."""

    def __init__(self, prefix: str, **kwargs):
        self.prefix = prefix
        super().__init__(read_only=True, source="*", allow_null=True, **kwargs)

    def to_representation(self, obj):
        pk = getattr(obj, f"{self.prefix}_id")
        return {"id": str(pk), "email": getattr(obj, f"{self.prefix}_email")} if pk else None


def person(prefix: str) -> PersonField:
    return PersonField(prefix)
