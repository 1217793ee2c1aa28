"""Every write of events and webhooks: recording, sequencing, fan-out, delivery.

Recording. An event is derived from the audit record of the same change
(`event_record_from_audit`, an audit listener): audit_record already runs once per
write, inside the service's transaction and in the right tenant's schema (even when the
write comes from public: the admin, commands, sign-up), so the event commits or rolls
back with the change and its audit record, and no service has a second call to keep
in step. `catalog.FROM_AUDIT` chooses which actions are events.

Sequencing. Events get a `position` after commit (`events_sequence`), in the order
they became visible, under the lock of one row: the API's cursor and the deliveries
follow positions, so a client resuming from a cursor never skips an event whose
transaction committed late (it is positioned after whatever was already visible).

Dispatch. A write that records an event in a tenant with an active webhook endpoint
also adds a `PendingDispatch` row (public) in its transaction, and kicks the dispatcher
once it commits; beat picks up the rows whose kick was lost, and the retries falling
due, without looking at any other tenant. The dispatcher positions the new events,
gives each active endpoint a delivery per subscribed event (`deliveries_fan_out`) and
sends each endpoint's deliveries in order, one sender per endpoint (a lease).
"""

import json
import logging
import random
import time
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import caches
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from accounts.selectors import member_emails
from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import ApplicationError, Conflict
from core.roles import Role
from core.tenancy import current_schema

from . import outbound
from .catalog import EVENT_TYPES, EventType, event_data, event_type_for
from .models import Delivery, DeliveryAttempt, DeliveryStatus, Event, EventSequence, WebhookEndpoint
from .queue.models import PendingDispatch
from .signing import secret_generate, signed_headers

log = logging.getLogger("tessera.events")

# How long a sender owns an endpoint, and how long it sends before handing over.
LEASE = timedelta(minutes=5)
SEND_BUDGET_SECONDS = 60
# A dispatch sent by beat is not sent again for this long (its rows are pushed back).
CLAIM = timedelta(seconds=60)
# A retry due within this many seconds is also sent to the broker as a delayed task.
SHORT_WAIT_SECONDS = 60
# A tenant's "dispatch on its way" flag outlives a lost task by this much at most (beat
# finds the tenant's PendingDispatch rows meanwhile).
KICK_FLAG_SECONDS = 60
REPLAY_MAX = 10_000
_KICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}


class InvalidWebhook(ApplicationError):
    code = "invalid_webhook"


class WebhookDisabled(Conflict):
    code = "webhook_disabled"
    default_message = "This webhook is disabled; enable it (is_active: true) first."


# --- recording -------------------------------------------------------------------------


def _json(value) -> dict:
    """What the API would render: UUIDs, decimals and times as JSON strings."""
    return json.loads(json.dumps(value, cls=JSONEncoder))


def event_envelope(event: Event) -> dict:
    """An event as the API and webhook bodies show it."""
    return _json(
        {
            "id": event.id,
            "type": event.type,
            "version": event.version,
            "occurred_at": event.occurred_at,
            "data": event.data,
        }
    )


def event_record_from_audit(record: AuditEvent, target) -> Event | None:
    """The audit listener: the event of this audit record's action, if it has one."""
    event_type = event_type_for(record.action)
    if event_type is None or not record.object_id:
        return None
    return event_record(event_type=event_type, object_id=record.object_id)


def event_record(*, event_type: EventType, object_id: str) -> Event:
    """Record an event in the current tenant's schema, in the caller's transaction."""
    event = Event.objects.create(
        type=event_type.name, version=event_type.version, data=_json(event_data(event_type, object_id))
    )
    _dispatch_soon(current_schema())
    return event


class _Kick:
    """Sends the tenant's dispatch after the commit. One per transaction and tenant:
    the marker is how `_dispatch_soon` knows it asked already."""

    def __init__(self, schema_name: str, countdown: float = 0):
        self.schema_name = schema_name
        self.countdown = countdown

    def __call__(self) -> None:
        # At most one dispatch waiting per tenant: the dispatch clears the flag before
        # it reads anything, so an event committed before a set flag was seen is read
        # by the dispatch that flag announced. A cache failure (None) sends anyway.
        if (
            not self.countdown
            and caches["platform"].add(_flag(self.schema_name), 1, timeout=KICK_FLAG_SECONDS) is False
        ):
            return
        try:
            current_app.send_task(
                "events.tasks.events_dispatch",
                kwargs={"schema_name": self.schema_name},
                countdown=self.countdown,
                ignore_result=True,
                retry=True,
                retry_policy=_KICK_RETRY,
            )
        except Exception as exc:  # noqa: BLE001 - the PendingDispatch row stays for beat
            log.warning("events: dispatch kick for %s not sent (%s); beat will pick it up", self.schema_name, exc)


def _flag(schema_name: str) -> str:
    return f"events:dispatch-pending:{schema_name}"


def _asked_in_this_transaction(schema_name: str) -> bool:
    # The callbacks pending on this connection: dropped with a rolled-back savepoint,
    # exactly like the PendingDispatch row written beside each of them.
    return connection.in_atomic_block and any(
        isinstance(entry[1], _Kick) and entry[1].schema_name == schema_name and not entry[1].countdown
        for entry in connection.run_on_commit
    )


def _dispatch_soon(schema_name: str) -> None:
    if _asked_in_this_transaction(schema_name):
        return
    if not WebhookEndpoint.objects.filter(is_active=True).exists():
        return  # nobody to deliver to: the API positions events as it reads them
    PendingDispatch.objects.create(schema_name=schema_name, due_at=timezone.now())
    transaction.on_commit(_Kick(schema_name), robust=True)


def _dispatch_at(schema_name: str, due_at: datetime) -> None:
    """Make sure beat finds this tenant by `due_at` (a retry falling due)."""
    if not PendingDispatch.objects.filter(schema_name=schema_name, due_at__lte=due_at).exists():
        PendingDispatch.objects.create(schema_name=schema_name, due_at=due_at)


# --- sequencing ------------------------------------------------------------------------


@transaction.atomic
def events_sequence(*, limit: int = 5000, wait: bool = False) -> int:
    """Give positions to the committed events that have none, in insertion order.
    The dispatcher never waits (another sequencer holding the lock is doing this very
    work); a reader (`wait`) waits for it, so that every event committed before the
    read is listed."""
    counter = EventSequence.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()
    if counter is None:
        if EventSequence.objects.filter(pk=1).exists():
            return 0
        EventSequence.objects.bulk_create([EventSequence(pk=1)], ignore_conflicts=True)
        counter = EventSequence.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()
        if counter is None:
            return 0
    seqs = list(Event.objects.filter(position__isnull=True).order_by("seq").values_list("seq", flat=True)[:limit])
    if not seqs:
        return 0
    start = counter.last_position
    Event.objects.bulk_update(
        [Event(seq=seq, position=start + n) for n, seq in enumerate(seqs, 1)], ["position"], batch_size=1000
    )
    counter.last_position = start + len(seqs)
    counter.save(update_fields=["last_position"])
    return len(seqs)


def _last_position() -> int:
    return EventSequence.objects.filter(pk=1).values_list("last_position", flat=True).first() or 0


# --- endpoints ---------------------------------------------------------------------------


def _check_url(url: str) -> str:
    try:
        outbound.url_check(url)
    except outbound.UnsafeURL as exc:
        raise InvalidWebhook(str(exc), field="url") from exc
    return url


def _check_types(event_types) -> list[str]:
    unknown = sorted({name for name in event_types if name not in EVENT_TYPES})
    if unknown:
        raise InvalidWebhook(
            f"Unknown event type(s): {', '.join(unknown)}. See GET /api/v1/events/types/.", field="event_types"
        )
    if not event_types:
        raise InvalidWebhook("Subscribe to at least one event type.", field="event_types")
    return list(dict.fromkeys(event_types))


def _audit(action: str, endpoint: WebhookEndpoint, actor, changes: dict) -> None:
    audit_record(action=f"webhook_endpoint.{action}", target=endpoint, actor=actor, changes=changes)


@transaction.atomic
def webhook_create(
    *, url: str, event_types: list[str], actor, description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """A new endpoint, with a new secret, for the events from now on (replay sends
    earlier ones)."""
    events_sequence()
    endpoint = WebhookEndpoint.objects.create(
        url=_check_url(url),
        event_types=_check_types(event_types),
        description=description,
        is_active=is_active,
        secret=secret_generate(),
        last_position=_last_position(),
    )
    _audit(
        "created", endpoint, actor, {"url": [None, url], "event_types": [None, endpoint.event_types], "secret": None}
    )
    return endpoint


@transaction.atomic
def webhook_update(*, endpoint: WebhookEndpoint, actor, **fields) -> WebhookEndpoint:
    """Change the URL, types, description or active flag. Enabling a disabled endpoint
    resumes its deliveries where they stopped."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "url" in fields:
        _check_url(fields["url"])
    if "event_types" in fields:
        fields["event_types"] = _check_types(fields["event_types"])
    changes = {
        name: [getattr(endpoint, name), value] for name, value in fields.items() if getattr(endpoint, name) != value
    }
    for name, value in fields.items():
        setattr(endpoint, name, value)
    if changes.get("is_active") == [False, True]:
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
    if changes:
        endpoint.save()
        _audit("updated", endpoint, actor, changes)
    if changes.get("is_active") == [False, True]:
        _dispatch_soon(current_schema())  # its waiting deliveries, without waiting for a new event
    return endpoint


@transaction.atomic
def webhook_delete(*, endpoint: WebhookEndpoint, actor) -> None:
    _audit("deleted", endpoint, actor, {"url": [endpoint.url, None]})
    endpoint.delete()


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


@transaction.atomic
def delivery_redeliver(*, endpoint: WebhookEndpoint, event: Event, actor) -> Delivery:
    """Send `event` to the endpoint again, after whatever it has pending."""
    endpoint = _locked(endpoint)
    if not endpoint.is_active:
        raise WebhookDisabled()
    delivery = Delivery.objects.create(endpoint=endpoint, event=event, manual=True)
    _audit("redelivered", endpoint, actor, {"event": [None, str(event.id)]})
    _dispatch_soon(current_schema())
    return delivery


@transaction.atomic
def deliveries_replay(*, endpoint: WebhookEndpoint, since: datetime, actor, until: datetime | None = None) -> int:
    """Send again every subscribed event that occurred in [since, until), in order,
    after whatever the endpoint has pending. Returns how many."""
    endpoint = _locked(endpoint)
    if not endpoint.is_active:
        raise WebhookDisabled()
    events_sequence()
    events = Event.objects.filter(
        position__isnull=False,
        position__lte=endpoint.last_position,
        occurred_at__gte=since,
        type__in=endpoint.event_types,
    )
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    ids = list(events.order_by("position").values_list("id", flat=True)[: REPLAY_MAX + 1])
    if len(ids) > REPLAY_MAX:
        raise InvalidWebhook(
            f"More than {REPLAY_MAX} events to replay: give a later `since` or an `until`.", field="since"
        )
    Delivery.objects.bulk_create([Delivery(endpoint=endpoint, event_id=event_id, manual=True) for event_id in ids])
    _audit("replayed", endpoint, actor, {"since": [None, since], "until": [None, until], "events": [None, len(ids)]})
    if ids:
        _dispatch_soon(current_schema())
    return len(ids)


# --- dispatch ------------------------------------------------------------------------------


def pending_dispatch_claim(*, limit: int = 1000) -> list[str]:
    """Beat's step: the tenants with work due, each pushed back by CLAIM so that the
    next tick does not send them again while their dispatch waits for a worker."""
    now = timezone.now()
    with transaction.atomic():
        due = (
            PendingDispatch.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", "schema_name")[:limit]
        )
        rows = list(due)
        PendingDispatch.objects.filter(pk__in=[pk for pk, _ in rows]).update(due_at=now + CLAIM)
    return list(dict.fromkeys(schema for _, schema in rows))


def deliveries_fan_out(*, batch: int = 1000) -> int:
    """Give every active endpoint a delivery for each subscribed event positioned past
    its `last_position`, in position order. Returns how many deliveries were made."""
    made = 0
    for endpoint_id in WebhookEndpoint.objects.filter(is_active=True).values_list("pk", flat=True):
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id, is_active=True).first()
            if endpoint is None:
                continue
            start = endpoint.last_position
            while True:
                rows = list(
                    Event.objects.filter(position__gt=endpoint.last_position)
                    .order_by("position")
                    .values_list("id", "type", "position")[:batch]
                )
                if not rows:
                    break
                wanted = set(endpoint.event_types)
                created = Delivery.objects.bulk_create(
                    [Delivery(endpoint=endpoint, event_id=event_id) for event_id, kind, _ in rows if kind in wanted]
                )
                made += len(created)
                endpoint.last_position = max(position or 0 for _, _, position in rows)
            if endpoint.last_position != start:
                endpoint.save(update_fields=["last_position"])
    return made


def events_dispatch(*, schema_name: str, deliver: bool) -> list[str]:
    """One tenant's dispatch (in its schema): position new events and, if `deliver`
    (an active tenant with the webhooks module), fan them out. Returns the endpoints
    with a delivery due now, each once; schedules the tenant for its next retry.

    Each once: the caller sends a task per endpoint after the first, so one endpoint
    listed per pending delivery (what DISTINCT gives under Delivery's default ordering,
    which adds `seq` to the selected columns) turned a burst of N events into N-1
    useless sender tasks. They queued ahead of the tenant's next kick, which the kick
    flag keeps the only one, and delayed every event after the burst by seconds."""
    caches["platform"].delete(_flag(schema_name))  # first: commits from now on kick again
    now = timezone.now()
    PendingDispatch.objects.filter(schema_name=schema_name, due_at__lte=now + CLAIM).delete()
    events_sequence()
    if not deliver:
        # A tenant without the module, or not active: its events are not for sending.
        # Endpoints skip them, as a job skips such a tenant, and go on with the events
        # after it is back (replay sends the skipped ones).
        WebhookEndpoint.objects.update(last_position=_last_position())
        return []
    deliveries_fan_out()
    now = timezone.now()
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING, endpoint__is_active=True)
    due_now = pending.filter(next_attempt_at__lte=now).order_by("endpoint_id")  # not Delivery's "-seq"
    due = list(due_now.values_list("endpoint_id", flat=True).distinct())
    later = pending.filter(next_attempt_at__gt=now).aggregate(at=Min("next_attempt_at"))["at"]
    if later is not None:
        _dispatch_at(schema_name, later)
    return [str(endpoint_id) for endpoint_id in due]


# --- sending ---------------------------------------------------------------------------------


def _lease(endpoint_id) -> bool:
    now = timezone.now()
    return (
        WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
        == 1
    )


def _release(endpoint_id) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=None)


def retry_delay(attempt: int) -> float | None:
    """Seconds before the attempt after failed attempt number `attempt` (from 1), with
    +-20% jitter so that many endpoints failing together do not retry together; None
    once WEBHOOKS_RETRY_SCHEDULE is spent."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    if attempt > len(schedule):
        return None
    return schedule[attempt - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret


def _send(endpoint: WebhookEndpoint, delivery: Delivery) -> outbound.Reply:
    body = json.dumps(event_envelope(delivery.event), separators=(",", ":")).encode()
    headers = signed_headers(
        secret=endpoint.secret, message_id=str(delivery.event.id), timestamp=int(time.time()), body=body
    )
    return outbound.post(endpoint.url, body=body, headers={**headers, "User-Agent": "Tessera-Webhooks/1"})


def _disable_mail(*, tenant, endpoint: WebhookEndpoint, reason: str) -> None:
    recipients = member_emails(tenant=tenant, minimum_role=Role.ADMIN)
    if not recipients:
        return
    send_mail(
        subject=f"{tenant.name}: a webhook was disabled after failing deliveries",
        message=(
            f"The webhook endpoint {endpoint.url} of {tenant.name} kept failing and has been disabled.\n\n"
            f"Last error: {reason}\n\n"
            "Its deliveries wait, in order, until it is enabled again:\n"
            f'  PATCH /api/v1/webhooks/{endpoint.id}/  {{"is_active": true}}\n'
            f"The delivery log: GET /api/v1/webhooks/{endpoint.id}/deliveries/\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


@transaction.atomic
def delivery_attempt_record(*, delivery: Delivery, reply: outbound.Reply, tenant) -> str:
    """Log one attempt and decide what follows: done, a retry later, or (the retries
    spent) the delivery failed and the endpoint disabled, its admins e-mailed."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    delivery.attempts += 1
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=now,
        succeeded=reply.ok,
        response_status=reply.status,
        duration_ms=reply.duration_ms,
        error=reply.error[:500],
    )
    delivery.response_status = reply.status
    delivery.duration_ms = reply.duration_ms
    delivery.error = reply.error[:500]
    if reply.ok:
        delivery.status, delivery.finished_at = DeliveryStatus.SUCCEEDED, now
        delivery.save()
        return "succeeded"
    delay = retry_delay(delivery.attempts)
    if delay is not None:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save()
        # Beat finds the retry when it falls due; a short wait is also handed to the
        # broker as a delayed task, sooner than beat's next look.
        _dispatch_at(current_schema(), delivery.next_attempt_at)
        if delay <= SHORT_WAIT_SECONDS:
            transaction.on_commit(_Kick(current_schema(), countdown=delay), robust=True)
        return "retrying"
    delivery.status, delivery.finished_at = DeliveryStatus.FAILED, now
    delivery.save()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    reason = f"{delivery.attempts} attempts failed; the last: {reply.error}"[:500]
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    _audit("disabled", endpoint, None, {"is_active": [True, False], "reason": [None, reason]})
    transaction.on_commit(lambda: _disable_mail(tenant=tenant, endpoint=endpoint, reason=reply.error))
    return "failed"


def endpoint_deliver(*, endpoint_id, tenant, budget_seconds: float = SEND_BUDGET_SECONDS) -> str:
    """Send the endpoint's due deliveries, oldest first, each only after the one before
    it succeeded or failed for good, for up to `budget_seconds`. One sender at a time
    (the lease); a sender that dies leaves the lease to expire. Says what happened."""
    deadline = time.monotonic() + budget_seconds
    sent = 0
    while True:
        if not _lease(endpoint_id):
            return f"sent {sent}; busy"
        try:
            outcome, count = _deliver_due(endpoint_id, tenant, deadline)
            sent += count
        finally:
            _release(endpoint_id)
        # Nothing was due, but a sender that found the lease taken meanwhile gave up,
        # counting on this one: look once more now that the lease is free.
        if outcome != "empty" or not _head(endpoint_id, due=True):
            break
    if outcome == "out of time":
        _dispatch_at(current_schema(), timezone.now())
        _Kick(current_schema())()
    return f"sent {sent}; {outcome}"


def _head(endpoint_id, *, due: bool = False) -> Delivery | None:
    pending = Delivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
    if due:
        pending = pending.filter(next_attempt_at__lte=timezone.now())
    return pending.select_related("event").order_by("seq").first()


def _deliver_due(endpoint_id, tenant, deadline: float) -> tuple[str, int]:
    sent = 0
    while time.monotonic() < deadline:
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).first()
        head = _head(endpoint_id)
        # Under a steady stream of events, the sender takes the new ones itself rather
        # than waiting for another dispatch task: one task drains the stream.
        if endpoint is not None and head is None and (events_sequence() or deliveries_fan_out()):
            head = _head(endpoint_id)
        if endpoint is None or head is None:
            return "empty", sent
        if head.next_attempt_at > timezone.now():
            _dispatch_at(current_schema(), head.next_attempt_at)
            return f"next attempt at {head.next_attempt_at.isoformat()}", sent
        outcome = delivery_attempt_record(delivery=head, reply=_send(endpoint, head), tenant=tenant)
        sent += 1
        if outcome != "succeeded":
            return outcome, sent
    return "out of time", sent
