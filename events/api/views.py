"""Events and webhooks endpoints. Thin: validate, call a service or selector, serialise.

Both are for admins and the owner. The events API answers on every plan (it is the
tenant's own history, like the audit trail); webhooks need the plan's `webhooks`
module (403 `module_disabled` otherwise).
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.errors import NotFound
from core.openapi import errors
from core.permissions import HasRole
from core.roles import Role
from events import selectors, services
from events.catalog import EVENT_TYPES
from events.models import Event, WebhookEndpoint

from . import serializers as s

# A well-formed UUID only: anything else is a 404 from the URLconf, never a lookup.
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def cursor_encode(position: int) -> str:
    """A cursor is the position of the last event a client saw: any value the schema's
    pattern allows is a valid place to resume from (past the end: an empty page)."""
    return str(position)


def cursor_decode(cursor: str) -> int:
    return int(cursor)  # the serializer's pattern has checked it


@extend_schema(tags=["events"])
class EventViewSet(viewsets.GenericViewSet):
    """What happened in this tenant, in commit order, as webhooks receive it."""

    serializer_class = s.EventSerializer
    permission_classes = [HasRole(Role.ADMIN)]
    lookup_field = "id"
    lookup_value_regex = UUID_PATTERN
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return Event.objects.none()

    @extend_schema(
        parameters=[s.EventListQuerySerializer], responses={200: s.EventPageSerializer, **errors(400, 401, 403)}
    )
    def list(self, request):
        """Events after `cursor` (from the start without one), oldest first, in the
        order they committed. Keep `next_cursor` and ask with it again later: no event
        is ever skipped, even one whose transaction committed after a later one's."""
        query = s.EventListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        after = cursor_decode(params["cursor"]) if "cursor" in params else 0
        services.events_sequence(wait=True)  # whatever committed before this request
        size = params["page_size"]
        events = list(
            selectors.event_list(
                types=params.get("type"),
                occurred_after=params.get("occurred_after"),
                occurred_before=params.get("occurred_before"),
                after_position=after,
            )[: size + 1]
        )
        page = events[:size]
        last = page[-1].position if page else after
        return Response(
            {
                "results": s.EventSerializer(page, many=True).data,
                "next_cursor": cursor_encode(last or 0),
                "has_more": len(events) > size,
            }
        )

    @extend_schema(responses={200: s.EventSerializer, **errors(401, 403, 404)})
    def retrieve(self, request, id=None):
        event = selectors.event_get(event_id=id)
        if event is None:
            raise NotFound("No such event.")
        return Response(s.EventSerializer(event).data)

    @extend_schema(responses={200: s.EventTypeSerializer(many=True), **errors(401, 403)})
    @action(detail=False, methods=["get"])
    def types(self, request):
        """Every event type a webhook can subscribe to."""
        return Response(s.EventTypeSerializer(EVENT_TYPES.values(), many=True).data)


@extend_schema(tags=["webhooks"])
@extend_schema_view(
    list=extend_schema(responses={200: s.WebhookSerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: s.WebhookSerializer, **errors(401, 403, 404)}),
    destroy=extend_schema(responses={204: None, **errors(401, 403, 404)}),
)
class WebhookViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Endpoints that receive this tenant's events, signed (Standard Webhooks)."""

    serializer_class = s.WebhookSerializer
    permission_classes = [HasRole(Role.ADMIN)]
    module = "webhooks"
    lookup_value_regex = UUID_PATTERN
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.webhook_list()

    @extend_schema(
        request=s.WebhookInputSerializer, responses={201: s.WebhookCreatedSerializer, **errors(400, 401, 403)}
    )
    def create(self, request):
        """A new endpoint for the events from now on (replay sends earlier ones). The
        answer shows its `secret`, this once."""
        data = s.WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_create(**data.validated_data, actor=request.user)
        return Response(s.WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.WebhookUpdateSerializer, responses={200: s.WebhookSerializer, **errors(400, 401, 403, 404)}
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = s.WebhookUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_update(endpoint=endpoint, actor=request.user, **data.validated_data)
        return Response(s.WebhookSerializer(endpoint).data)

    def perform_destroy(self, instance):
        services.webhook_delete(endpoint=instance, actor=self.request.user)

    @extend_schema(
        parameters=[s.DeliveryListQuerySerializer],
        responses={200: s.DeliverySerializer(many=True), **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The endpoint's delivery log, newest first: each delivery with its attempts."""
        endpoint = self.get_object()
        query = s.DeliveryListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = selectors.delivery_list(endpoint=endpoint, status=query.validated_data.get("status"))
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(s.DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=s.RedeliverSerializer, responses={202: s.DeliverySerializer, **errors(400, 401, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send one event to this endpoint again, after whatever it has pending."""
        endpoint = self.get_object()
        data = s.RedeliverSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = selectors.event_get(event_id=data.validated_data["event"])
        if event is None:
            raise ValidationError({"event": ["No such event."]})
        delivery = services.delivery_redeliver(endpoint=endpoint, event=event, actor=request.user)
        return Response(s.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.ReplaySerializer, responses={202: s.ReplayedSerializer, **errors(400, 401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Send again, in order, every subscribed event that occurred since `since`
        (and before `until`), up to the events this endpoint has already been given."""
        endpoint: WebhookEndpoint = self.get_object()
        data = s.ReplaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.deliveries_replay(endpoint=endpoint, actor=request.user, **data.validated_data)
        return Response({"deliveries": count}, status=status.HTTP_202_ACCEPTED)
