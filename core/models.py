"""Abstract bases shared by the domain apps, and the kernel's one table."""

import uuid

from django.db import models
from django.utils import timezone


class UUIDModel(models.Model):
    """Every API resource: a random UUID id (never repeats across tenants, cannot be
    guessed) and creation/update times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response to a POST that carried an `Idempotency-Key` (core.idempotency).

    One table per schema: a tenant's records live in the tenant's schema, the public
    host's in public, so the schema is the tenant scope and `user_id` the caller's.
    Written in the same transaction as the request's own writes, so a retry finds the
    response exactly when the work was committed. Kept for 24 hours.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(help_text="The authenticated caller (accounts.User, in public).")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path, content type and body.")
    path = models.TextField(help_text="For operators: where the key was first used.")
    status_code = models.PositiveSmallIntegerField()
    headers = models.JSONField(default=dict, help_text="The response headers a replay repeats.")
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="core_idempotency_user_key_uniq")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code} {self.path})"
