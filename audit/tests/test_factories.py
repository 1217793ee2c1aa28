"""audit's factories write to the trail and the log that the services write to."""

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from audit.platform.models import PlatformEvent
from audit.tests.factories import AuditEventFactory, PlatformEventFactory

pytestmark = pytest.mark.django_db


def test_audit_event_factory_writes_to_the_current_tenants_trail_only(platform, tenant_a, tenant_b):
    actor = platform.user(tenant_a, "admin")
    with tenant_context(tenant_a):
        event = AuditEventFactory(actor=actor, action="product.updated")
        event.full_clean()
        stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_id, stored.actor_email) == ("product.updated", actor.pk, "admin@alpha.test")
    with tenant_context(tenant_b):
        assert not AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_event_factory_refuses_the_public_schema():
    with pytest.raises(RuntimeError, match="tenant_context"):
        AuditEventFactory()


def test_platform_event_factory_writes_to_the_platform_log(tenant_a):
    event = PlatformEventFactory(action="tenant.suspended", tenant_slug=tenant_a.slug)
    event.full_clean()
    stored = PlatformEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.tenant_slug, stored.actor_id) == ("tenant.suspended", "alpha", None)
