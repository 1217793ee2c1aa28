"""tenants' status rules driven through the service, without HTTP: every status x
every change, each on a tenant of its own (the shared tenants must stay active)."""

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from audit.platform.models import PlatformEvent
from tenants.exceptions import InvalidTenantTransition
from tenants.models import Tenant, TenantStatus
from tenants.services import tenant_change_status
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

CHANGES = ["suspend", "resume", "archive"]
# (status, change) -> (new status, event). Every pair not listed is refused.
ALLOWED = {
    ("active", "suspend"): ("suspended", "tenant.suspended"),
    ("active", "archive"): ("archived", "tenant.archived"),
    ("suspended", "resume"): ("active", "tenant.resumed"),
    ("suspended", "archive"): ("archived", "tenant.archived"),
    ("archived", "resume"): ("active", "tenant.resumed"),
}
REFUSED = [(status, change) for status in TenantStatus.values for change in CHANGES if (status, change) not in ALLOWED]
LIFECYCLE = ["tenant.suspended", "tenant.resumed", "tenant.archived"]


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True)


def stored(tenant: Tenant) -> tuple:
    fresh = Tenant.objects.get(pk=tenant.pk)
    return fresh.status, fresh.status_changed_at


def platform_events(tenant: Tenant) -> list[PlatformEvent]:
    return list(PlatformEvent.objects.filter(tenant_slug=tenant.slug, action__in=LIFECYCLE))


@pytest.mark.parametrize(("status", "change"), sorted(ALLOWED))
def test_tenant_status_change_moves_status_and_records_it(operator, status, change):
    tenant = TenantFactory(status=status)
    new_status, action = ALLOWED[(status, change)]
    started = timezone.now()

    returned = tenant_change_status(tenant=tenant, change=change, actor=operator)

    assert returned.status == new_status
    saved_status, changed_at = stored(tenant)
    assert saved_status == new_status and started <= changed_at <= timezone.now()
    [event] = platform_events(tenant)
    assert (event.action, event.actor_email, event.object_id) == (action, operator.email, str(tenant.pk))
    assert event.changes["status"] == [status, new_status]
    with tenant_context(tenant):  # the tenant's admins see it in their own trail too
        assert AuditEvent.objects.filter(action=action, object_id=str(tenant.pk)).count() == 1


@pytest.mark.parametrize(("status", "change"), REFUSED)
def test_tenant_status_change_from_wrong_status_is_refused_and_changes_nothing(operator, status, change):
    tenant = TenantFactory(status=status)
    before = stored(tenant)
    with pytest.raises(InvalidTenantTransition, match=status):
        tenant_change_status(tenant=tenant, change=change, actor=operator)
    assert stored(tenant) == before
    assert platform_events(tenant) == []
    with tenant_context(tenant):
        assert not AuditEvent.objects.filter(action__in=LIFECYCLE).exists()


@pytest.mark.parametrize("change", CHANGES)
def test_public_tenant_cannot_change_status(public_tenant, operator, change):
    before = stored(public_tenant)
    with pytest.raises(InvalidTenantTransition, match="public"):
        tenant_change_status(tenant=public_tenant, change=change, actor=operator)
    assert stored(public_tenant) == before
    assert not PlatformEvent.objects.filter(action__in=LIFECYCLE).exists()
