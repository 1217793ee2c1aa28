"""The operators' admin on the public host."""

import pytest
from django.test import Client

from accounts.models import Membership, User
from audit.platform.models import PlatformEvent
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(platform):
    return User.objects.create_superuser(email="ops@tessera.test", password="ops-password-long")


@pytest.fixture
def admin_client(operator):
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tenants/tenant/?q=alpha",
        "/admin/tenants/tenant/?status__exact=active",
        "/admin/tenants/domain/?q=beta",
        "/admin/accounts/user/?q=owner",
        "/admin/accounts/user/?memberships__role=admin",
        "/admin/accounts/membership/?role__exact=owner",
        "/admin/platform_audit/platformevent/",
        "/admin/tenants/tenant/add/",
    ],
)
def test_admin_pages_render(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_admin_search_finds_tenant(admin_client):
    html = admin_client.get("/admin/tenants/tenant/?q=beta").content.decode()
    assert "beta" in html and "alpha.localhost" not in html


def test_admin_suspend_action(admin_client, tenant_a):
    response = admin_client.post(
        "/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [str(tenant_a.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert Tenant.objects.get(pk=tenant_a.pk).status == "suspended"
    event = PlatformEvent.objects.get(action="tenant.suspended", object_id=str(tenant_a.pk))
    assert event.actor_email == "ops@tessera.test" and event.source == "admin"


def test_admin_add_tenant_provisions_it(admin_client):
    response = admin_client.post(
        "/admin/tenants/tenant/add/", {"slug": "nu", "name": "Nu", "owner_email": "nu@x.test"}, follow=True
    )
    assert response.status_code == 200
    assert "Generated owner password" in response.content.decode()
    tenant = Tenant.objects.get(slug="nu")
    assert Membership.objects.get(tenant=tenant).role == "owner"
    assert tenant.domains.get().domain == "nu.localhost"


def test_admin_add_tenant_rejects_bad_slug(admin_client):
    response = admin_client.post(
        "/admin/tenants/tenant/add/", {"slug": "public", "name": "P", "owner_email": "p@x.test"}
    )
    assert response.status_code == 200 and "reserved" in response.content.decode()
    assert not User.objects.filter(email="p@x.test").exists()


def test_non_staff_cannot_use_admin(platform, tenant_a):
    client = Client(HTTP_HOST="localhost")
    client.force_login(platform.user(tenant_a, "owner"))
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_operator_reads_a_tenants_audit_trail_in_the_admin(admin_client, tenant_a, tenant_b):
    from tenants.services import tenant_change_status

    tenant_change_status(tenant=tenant_a, change="suspend")
    tenant_change_status(tenant=tenant_b, change="archive")
    html = admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/audit/?action=tenant.").content.decode()
    assert "tenant.suspended" in html and "tenant.archived" not in html
    assert (
        f"/admin/tenants/tenant/{tenant_a.pk}/audit/"
        in admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    )
