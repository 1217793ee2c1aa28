import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from audit.models import AuditEvent
from audit.selectors import audit_event_list
from audit.vocabulary import ACTION_FAMILIES, ACTIONS, OBJECT_TYPES, SOURCES
from core.filters import FilterSet, IsoDateTimeFromToRangeFilter, UUIDFilter
from core.openapi import errors
from core.permissions import HasRole
from core.roles import Role

from .serializers import AuditEventSerializer


class VocabularyChoiceFilter(django_filters.ChoiceFilter):
    """One of a fixed set of names; anything else is a 400 that lists them (a value the
    trail cannot hold used to match nothing, as if there were no such events)."""

    def __init__(self, *args, values, **kwargs):
        kwargs.setdefault(
            "error_messages", {"invalid_choice": f"Unknown value %(value)s; use one of: {', '.join(values)}."}
        )
        super().__init__(*args, choices=[(value, value) for value in values], **kwargs)


class AuditEventFilter(FilterSet):
    actor = UUIDFilter(field_name="actor_id", help_text="Actor's user id.")
    actor_email = django_filters.CharFilter(field_name="actor_email", lookup_expr="iexact")
    action = VocabularyChoiceFilter(values=sorted(ACTIONS), help_text="Exact action, e.g. membership.changed.")
    # A family with its dot (`auth.`): an enum in the schema, so a client sees every one.
    action_prefix = VocabularyChoiceFilter(
        values=[f"{family}." for family in sorted(ACTION_FAMILIES)],
        field_name="action",
        lookup_expr="startswith",
        help_text="A family of actions, e.g. auth. or membership.",
    )
    object_type = VocabularyChoiceFilter(values=sorted(OBJECT_TYPES), help_text="e.g. purchase_request.")
    source = VocabularyChoiceFilter(values=list(SOURCES))
    at = IsoDateTimeFromToRangeFilter(help_text="Date range: at_after=...&at_before=... (ISO 8601).")

    class Meta:
        model = AuditEvent
        fields = ["actor", "actor_email", "action", "action_prefix", "object_type", "object_id", "source", "at"]


@extend_schema(tags=["audit"])
@extend_schema_view(
    list=extend_schema(responses={200: AuditEventSerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: AuditEventSerializer, **errors(401, 403, 404)}),
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """This tenant's audit trail: read-only, for admins and the owner."""

    serializer_class = AuditEventSerializer
    permission_classes = [HasRole(Role.ADMIN)]
    filterset_class = AuditEventFilter
    search_fields = ["action", "object_id", "actor_email"]
    ordering_fields = ["at", "action"]
    ordering = ["-at"]

    def get_queryset(self):
        return audit_event_list()
