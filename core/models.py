"""Abstract bases shared by the domain apps."""

import uuid

from django.db import models


class UUIDModel(models.Model):
    """Every API resource: a random UUID id (never repeats across tenants, cannot be
    guessed) and creation/update times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
