"""tenants' factories make tenants that are served like provisioned ones (they are)."""

import pytest
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import Membership
from core.roles import Role
from inventory.models import Product
from inventory.tests.factories import ProductFactory
from tenants.models import Tenant, TenantStatus
from tenants.selectors import tenant_for_host
from tenants.tests.factories import DomainFactory, TenantFactory
from testing.helpers import api_client

pytestmark = pytest.mark.django_db


def test_tenant_factory_provisions_a_served_tenant_with_its_own_schema_and_owner():
    tenant, other = TenantFactory(), TenantFactory()
    assert tenant.slug != other.slug
    tenant.full_clean()
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.ACTIVE
    assert schema_exists(tenant.schema_name)
    owner = Membership.objects.get(tenant=tenant, role=Role.OWNER).user
    body = api_client(tenant, owner).get("/api/v1/tenant/").json()
    assert body["slug"] == tenant.slug
    with tenant_context(tenant):
        ProductFactory(sku="ONLY-HERE")
    with tenant_context(other):
        assert not Product.objects.filter(sku="ONLY-HERE").exists()


def test_tenant_factory_starts_a_tenant_in_the_status_asked_for():
    tenant = TenantFactory(status=TenantStatus.SUSPENDED)
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.SUSPENDED


def test_domain_factory_adds_a_custom_domain_that_routes_to_the_tenant():
    tenant = TenantFactory()
    domain = DomainFactory(tenant=tenant)
    domain.full_clean()
    assert domain.domain.endswith(".example.test")
    assert tenant_for_host(domain.domain).pk == tenant.pk
    assert tenant.domains.get(is_primary=True).domain == tenant.primary_host


def test_domain_factory_refuses_to_guess_the_tenant():
    with pytest.raises(TypeError, match="tenant="):
        DomainFactory()
