"""factory_boy factories for the audit trail and the platform log.

Both tables are append-only (a trigger refuses UPDATE and DELETE), so these factories
only ever insert: nothing here saves a row twice. `actor=` fills the actor snapshot.
"""

import uuid

import factory
from django.db import connection
from django_tenants.utils import get_public_schema_name

from audit.models import AuditEvent
from audit.platform.models import PlatformEvent


class _EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    class Params:
        actor = None

    actor_id = factory.LazyAttribute(lambda o: o.actor.pk if o.actor else None)
    actor_email = factory.LazyAttribute(lambda o: o.actor.email if o.actor else "")
    action = "product.updated"
    object_type = "product"
    object_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    changes = factory.LazyFunction(lambda: {"name": [None, "recorded by a factory"]})


class AuditEventFactory(_EventFactory):
    """A row of one tenant's trail: call it inside `tenant_context(tenant)`."""

    class Meta:
        model = AuditEvent

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The public schema has no trail table; say so instead of a missing relation.
        if connection.schema_name == get_public_schema_name():
            raise RuntimeError("AuditEventFactory writes to a tenant's trail: call it inside tenant_context(tenant).")
        return super()._create(model_class, *args, **kwargs)


class PlatformEventFactory(_EventFactory):
    """A row of the platform log (public schema); `tenant_slug` names the tenant it is about."""

    class Meta:
        model = PlatformEvent

    object_type = "tenant"
    tenant_slug = ""
