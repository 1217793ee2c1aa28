from django.db import models

from .base import EventFields


class AuditEvent(EventFields):
    """One change in this tenant's data, in the tenant's own schema. Append-only: a
    database trigger refuses UPDATE and DELETE (see audit/sql.py)."""

    class Meta(EventFields.Meta):
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
