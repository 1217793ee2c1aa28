"""Every read of events and webhooks."""

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


def event_list(
    *,
    types: list[str] | None = None,
    occurred_after: datetime | None = None,
    occurred_before: datetime | None = None,
    after_position: int = 0,
) -> QuerySet[Event]:
    """Positioned events after `after_position`, in position (commit) order. Events
    not positioned yet are left out: they come after every positioned one."""
    events = Event.objects.filter(position__gt=after_position)
    if types:
        events = events.filter(type__in=types)
    if occurred_after is not None:
        events = events.filter(occurred_at__gte=occurred_after)
    if occurred_before is not None:
        events = events.filter(occurred_at__lt=occurred_before)
    return events.order_by("position")


def event_get(*, event_id) -> Event | None:
    return Event.objects.filter(id=event_id).first()


def webhook_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("created_at")


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[Delivery]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    deliveries = Delivery.objects.filter(endpoint=endpoint)
    if status:
        deliveries = deliveries.filter(status=status)
    return (
        deliveries.select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number")))
        .order_by("-seq")
    )
