"""The one place audit records are written, for every app, interface and command.

    audit_record(action="product.updated", target=product, actor=user,
                 changes=diff(before, snapshot(product)))

- Call it inside the transaction of the change it describes (services are atomic):
  a rolled-back change leaves no record, a committed one always has its record.
- Where it goes: the current tenant's trail (AuditEvent, tenant schema); the platform
  log (PlatformEvent, public) when called on the public host or with `platform=True`;
  or the trail of `tenant=` when the caller works from public (admin, commands).
- Who and where from (request id, IP, user agent, source) come from `core.context`,
  filled by the request middleware, the command base and the Celery task base.
- Values of fields whose names look secret (password, token, secret, key) are never
  stored, only that they changed.
"""

import datetime
import decimal
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.functions import Now
from django_tenants.utils import get_public_schema_name, schema_context

from core.context import current_meta
from core.tenancy import current_schema, in_public_schema

from .models import AuditEvent
from .platform.models import PlatformEvent, SecurityEvent
from .sql import guard_function
from .vocabulary import object_type_of, vocabulary_check

REDACTED = "[redacted]"
# Told of every record written to a tenant's trail, inside its transaction and in that
# tenant's schema: `listener(record, target)`. Apps above register from their ready()
# (events derives its domain events from here); audit never names them.
_listeners: list[Callable[[AuditEvent, models.Model | None], None]] = []


def audit_listener_register(listener: Callable[[AuditEvent, models.Model | None], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def _tenant_record(fields: dict, target: models.Model | None) -> AuditEvent:
    record = AuditEvent.objects.create(**fields)
    for listener in _listeners:
        listener(record, target)
    return record


_SECRET_MARKERS = ("password", "token", "secret", "key", "hash", "otp")


def is_secret(field: str) -> bool:
    return any(marker in field.lower() for marker in _SECRET_MARKERS)


def _json_safe(value):
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict:
    """The instance's concrete field values, JSON-safe, secrets redacted."""
    names = fields or [field.attname for field in instance._meta.concrete_fields]
    return {name: REDACTED if is_secret(name) else _json_safe(getattr(instance, name)) for name in names}


def diff(before: dict, after: dict) -> dict:
    """`{field: [before, after]}` for the fields whose values differ."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def clean_changes(changes: dict | None) -> dict:
    """Redact secret fields and make values JSON-safe."""
    return {name: REDACTED if is_secret(name) else _json_safe(value) for name, value in (changes or {}).items()}


def _fields(*, action, target, object_type, object_id, actor, changes) -> dict:
    meta = current_meta()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    object_type = object_type or (object_type_of(target) if target is not None else "")
    vocabulary_check(action=action, object_type=object_type)
    return {
        "actor_id": actor.pk if actor else None,
        "actor_email": actor.email if actor else "",
        "action": action,
        "object_type": object_type,
        "object_id": object_id or (str(target.pk) if target is not None else ""),
        "changes": clean_changes(changes),
        "source": meta.source,
        "request_id": meta.request_id,
        "ip": meta.ip,
        "user_agent": meta.user_agent,
    }


def audit_record(
    *,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    actor=None,
    changes: dict | None = None,
    tenant=None,
    platform: bool = False,
) -> AuditEvent | PlatformEvent:
    fields = _fields(
        action=action, target=target, object_type=object_type, object_id=object_id, actor=actor, changes=changes
    )
    public = get_public_schema_name()
    schema = current_schema()
    if platform or (tenant is None and schema == public) or (tenant is not None and tenant.is_public):
        # The tenant the event concerns: the one named, else the one being served.
        about = tenant if tenant is not None else getattr(connection, "tenant", None)
        slug = "" if about is None or about.schema_name == public else getattr(about, "slug", "")
        return PlatformEvent.objects.create(tenant_slug=slug, **fields)
    if tenant is not None and schema != tenant.schema_name:
        # The event belongs in the named tenant's own trail, written from another schema
        # (the admin and commands run in public): the one schema switch audit makes.
        with schema_context(tenant.schema_name):
            return _tenant_record(fields, target)
    return _tenant_record(fields, target)


def security_event_record(*, kind: str, email: str = "", user=None, tenant=None, details: dict | None = None):
    """Record `security.<kind>` in the platform log, for operators (never a tenant's
    trail): the account concerned (`email` as tried, `user` when it exists), the host's
    tenant, and the request's IP, user agent and id."""
    meta = current_meta()
    action, object_type = f"{SecurityEvent.PREFIX}{kind}", object_type_of(user) if user is not None else ""
    vocabulary_check(action=action, object_type=object_type)
    return PlatformEvent.objects.create(
        action=action,
        actor_id=getattr(user, "pk", None),
        actor_email=(email or getattr(user, "email", "") or "")[:254],
        object_type=object_type,
        object_id=str(user.pk) if user is not None else "",
        changes=clean_changes(details),
        tenant_slug="" if tenant is None or tenant.is_public else tenant.slug,
        source=meta.source,
        request_id=meta.request_id,
        ip=meta.ip,
        user_agent=meta.user_agent,
    )


def audit_guard_install() -> None:
    """(Re)create the append-only guard with the configured retention (migrate_schemas)."""
    with connection.cursor() as cursor:
        cursor.execute(guard_function(settings.AUDIT_RETENTION_DAYS))


@transaction.atomic
def audit_purge() -> int:
    """Delete the current schema's audit rows older than AUDIT_RETENTION_DAYS: the only
    deletion the append-only trigger lets through. Returns how many were removed."""
    model = PlatformEvent if in_public_schema() else AuditEvent
    # SET LOCAL, not set_config(): on Citus the trigger runs on the worker holding the
    # tenant's rows, and only SET LOCAL commands reach it (with propagate_set_commands
    # 'local'). Without Citus `citus.propagate_set_commands` is an unused placeholder.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL citus.propagate_set_commands = 'local'")
        cursor.execute("SET LOCAL tessera.audit_purge = 'on'")
    # The cutoff is the database's own clock, the one the trigger checks against.
    deleted, _ = model.objects.filter(at__lt=Now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)).delete()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL tessera.audit_purge = 'off'")
    return deleted
