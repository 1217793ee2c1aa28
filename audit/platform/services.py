"""Recording platform events. Call inside the transaction of the change it describes."""

from django.db import models

from config.context import current_meta

from .models import PlatformEvent


def platform_event_record(
    *,
    action: str,
    target: models.Model,
    actor=None,
    tenant_slug: str = "",
    changes: dict | None = None,
) -> PlatformEvent:
    meta = current_meta()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return PlatformEvent.objects.create(
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        tenant_slug=tenant_slug,
        changes=changes or {},
        source=meta.source,
        request_id=meta.request_id,
        ip=meta.ip,
        user_agent=meta.user_agent,
    )
