"""The fields every audit record has, for the tenant trail and the platform log alike."""

import uuid

from django.db import models
from django.utils import timezone


class EventFields(models.Model):
    """When, who (a snapshot, not a foreign key: users may be deleted, rows may not change),
    what, and from where. `changes` is `{field: [before, after]}`, secrets redacted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="Null for the system.")
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, default="system", help_text="api, admin, command, task or system")
    request_id = models.CharField(max_length=128, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        abstract = True
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"
