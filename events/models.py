"""Events, webhook endpoints and their deliveries: all in the tenant's own schema."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import UUIDModel

URL_MAX_LENGTH = 2000


class Event(models.Model):
    """Something that happened to a tenant's data, written in the transaction of the
    change (a rolled-back change leaves none). `seq` orders the events of one
    transaction and of concurrent ones by insertion; `position` is given after commit,
    in the order the events became visible (events.services.events_sequence), and is
    what the API's cursor and the deliveries follow."""

    seq = models.BigAutoField(primary_key=True)
    id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    version = models.PositiveSmallIntegerField(default=1, help_text="Schema version of `data` for this type.")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    data = models.JSONField(default=dict)
    position = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(fields=["seq"], condition=Q(position__isnull=True), name="event_unsequenced_idx"),
        ]

    def __str__(self):
        return f"{self.type} {self.id}"


class EventSequence(models.Model):
    """One row: the last position given. Its lock serialises the sequencer."""

    last_position = models.BigIntegerField(default=0)

    def __str__(self):
        return f"events up to position {self.last_position}"


class WebhookEndpoint(UUIDModel):
    url = models.URLField(max_length=URL_MAX_LENGTH)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="The event types sent here.")
    # Kept to sign with; shown to the API once, when the endpoint is created.
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    # The last event position fanned out to this endpoint: deliveries exist for every
    # subscribed event up to here.
    last_position = models.BigIntegerField(default=0)
    # One sender at a time per endpoint (so deliveries go in order): until this time the
    # endpoint belongs to the worker that set it.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Delivery(models.Model):
    """One event to one endpoint (a manual redelivery is another). Sent in `seq` order
    per endpoint, each after the one before it succeeded or failed for good."""

    seq = models.BigAutoField(primary_key=True)
    id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", to_field="id")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    manual = models.BooleanField(default=False, help_text="Asked for by redelivery or replay.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["endpoint", "seq"], condition=Q(status="pending"), name="delivery_pending_idx"),
        ]

    def __str__(self):
        return f"{self.event_id} -> {self.endpoint_id}: {self.status}"


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery: the log a customer reads to debug a receiver."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    succeeded = models.BooleanField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"attempt {self.number}: {self.response_status or self.error}"
