import uuid

from django.conf import settings
from django.db import models


class PlatformEvent(models.Model):
    """Something that happened to the platform itself (public schema).

    Tenants provisioned, suspended, resumed, archived, deleted; users registered;
    memberships granted, changed or revoked. Tenant data changes go to each tenant's
    own audit trail instead.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True, help_text="Kept if the user is deleted later.")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, db_index=True)
    tenant_slug = models.CharField(max_length=63, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, default="system")
    request_id = models.CharField(max_length=128, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"
