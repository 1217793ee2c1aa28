from typing import ClassVar

from django.db import models

from audit.base import EventFields


class PlatformEvent(EventFields):
    """Something that happened to the platform itself (public schema): tenants
    provisioned, suspended, resumed, archived, deleted; users registered or changed;
    sign-ins on the public host; operators' admin edits. Append-only, like AuditEvent."""

    tenant_slug = models.CharField(max_length=63, blank=True, db_index=True)

    class Meta(EventFields.Meta):
        indexes = [models.Index(fields=["object_type", "object_id"], name="platform_event_object_idx")]


class SecurityEventManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(action__startswith=SecurityEvent.PREFIX)


class SecurityEvent(PlatformEvent):
    """The platform log's security events (`security.*`): failed sign-ins, throttling,
    refresh-token reuse, invitation abuse. For operators only: a tenant's own trail
    never shows them, so trying passwords on one's own tenant host reveals nothing.

    `actor_email`/`actor_id` name the account the event is about (the e-mail that was
    tried, and its user when one exists), not someone proven to have acted.
    """

    PREFIX = "security."

    objects: ClassVar[SecurityEventManager] = SecurityEventManager()

    class Meta:
        proxy = True
        ordering = ["-at"]
