"""Input serializers validate (and name the field in error); output serializers render."""

import re

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.serializers import BooleanField, ModelSerializer, QuerySerializer, StringField
from events.catalog import EVENT_TYPES
from events.models import URL_MAX_LENGTH, Delivery, DeliveryAttempt, DeliveryStatus, Event, WebhookEndpoint

# One or more known event types, comma-separated (also the OpenAPI pattern of ?type=).
_ONE_TYPE = "(?:" + "|".join(re.escape(name) for name in sorted(EVENT_TYPES)) + ")"
TYPES_PATTERN = rf"^{_ONE_TYPE}(?:,{_ONE_TYPE})*$"


class EventSerializer(ModelSerializer):
    """An event: the same JSON is the body of its webhook deliveries."""

    # A field named `data`: DRF's metaclass takes declared fields off the class, so the
    # serializer's own `.data` is untouched.
    data = serializers.JSONField(  # type: ignore[assignment]
        help_text="The resource as GET on it shows it; a deletion: {id} only."
    )
    version = serializers.IntegerField(help_text="Schema version of `data` for this type.")

    class Meta:
        model = Event
        fields = ["id", "type", "version", "occurred_at", "data"]
        read_only_fields = fields


@extend_schema_serializer(many=False)  # the list action answers one page object, not an array
class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Give it as ?cursor= for the events after these; keep it to resume later."
    )
    has_more = serializers.BooleanField(help_text="More events are there already (ask again at once).")


class EventListQuerySerializer(QuerySerializer):
    type = StringField(
        required=False,
        validators=[RegexValidator(TYPES_PATTERN, "Unknown event type(s): see GET /api/v1/events/types/.")],
        help_text="Event types, comma-separated: product.created,product.updated.",
    )
    occurred_after = serializers.DateTimeField(required=False, help_text="At or after this time (ISO 8601).")
    occurred_before = serializers.DateTimeField(required=False, help_text="Before this time (ISO 8601).")
    cursor = StringField(
        required=False,
        validators=[RegexValidator(r"^[0-9]{1,18}$", "Not a cursor this API gave.")],
        help_text="next_cursor of a previous page.",
    )
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

    def validate_type(self, value: str) -> list[str]:
        types = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(types) - set(EVENT_TYPES))
        if unknown:
            raise serializers.ValidationError(f"Unknown event type(s): {', '.join(unknown)}.")
        return types


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.IntegerField()


class WebhookSerializer(ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Shown this once: verify deliveries with it (Standard Webhooks, whsec_ + base64)."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    url = StringField(max_length=URL_MAX_LENGTH, help_text="https, on a public address.")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)),
        min_length=1,
        max_length=len(EVENT_TYPES),
        help_text="See GET /api/v1/events/types/.",
    )
    description = StringField(max_length=200, required=False, allow_blank=True, default="")
    is_active = BooleanField(required=False, default=True)


class WebhookUpdateSerializer(serializers.Serializer):
    url = StringField(max_length=URL_MAX_LENGTH, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)),
        min_length=1,
        max_length=len(EVENT_TYPES),
        required=False,
    )
    description = StringField(max_length=200, required=False, allow_blank=True)
    is_active = BooleanField(required=False, help_text="true re-enables a disabled endpoint.")


class DeliveryAttemptSerializer(ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "at", "succeeded", "response_status", "duration_ms", "error"]
        read_only_fields = fields


class DeliverySerializer(ModelSerializer):
    event = serializers.UUIDField(source="event.id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "event_type",
            "status",
            "manual",
            "attempts",
            "next_attempt_at",
            "response_status",
            "duration_ms",
            "error",
            "created_at",
            "finished_at",
            "attempt_log",
        ]
        read_only_fields = fields


class DeliveryListQuerySerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)


class RedeliverSerializer(serializers.Serializer):
    event = serializers.UUIDField(help_text="The id of the event to send again.")


class ReplaySerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Events that occurred at or after this time (ISO 8601).")
    until = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="...and before this.")


class ReplayedSerializer(serializers.Serializer):
    deliveries = serializers.IntegerField(help_text="Deliveries queued, one per event, in order.")
