from django.db import models

from audit.base import EventFields


class PlatformEvent(EventFields):
    """Something that happened to the platform itself (public schema): tenants
    provisioned, suspended, resumed, archived, deleted; users registered or changed;
    sign-ins on the public host; operators' admin edits. Append-only, like AuditEvent."""

    tenant_slug = models.CharField(max_length=63, blank=True, db_index=True)

    class Meta(EventFields.Meta):
        indexes = [models.Index(fields=["object_type", "object_id"], name="platform_event_object_idx")]
