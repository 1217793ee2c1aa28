"""`/api/v1/tenant/`: the current tenant, its usage, rename and archive."""

import pytest

from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_tenant_shows_itself_and_usage(api_client_for, tenant_a):
    body = api_client_for(tenant_a, role="viewer").get("/api/v1/tenant/").json()
    assert body["slug"] == "alpha" and body["host"] == "alpha.localhost"
    assert body["domains"] == ["alpha.localhost"]
    assert body["usage"]["members"] == 5
    assert body["url"] == "http://alpha.localhost"


def test_tenant_b_sees_only_itself(api_client_for, tenant_b):
    body = api_client_for(tenant_b, role="viewer").get("/api/v1/tenant/").json()
    assert body["slug"] == "beta" and "alpha" not in str(body)


def test_admin_renames_tenant(api_client_for, tenant_a):
    response = api_client_for(tenant_a, role="admin").patch("/api/v1/tenant/", {"name": "Alpha Holdings"})
    assert response.status_code == 200 and response.json()["name"] == "Alpha Holdings"
    assert Tenant.objects.get(pk=tenant_a.pk).name == "Alpha Holdings"
    blank = api_client_for(tenant_a, role="admin").patch("/api/v1/tenant/", {"name": "  "})
    assert blank.status_code == 400 and "name" in blank.json()


def test_owner_archives_with_confirmation(api_client_for, tenant_a):
    owner = api_client_for(tenant_a, role="owner")
    wrong = owner.post("/api/v1/tenant/archive/", {"confirm": "beta"})
    assert wrong.status_code == 400 and "confirm" in wrong.json()
    assert owner.post("/api/v1/tenant/archive/", {"confirm": "alpha"}).json()["status"] == "archived"
    assert owner.get("/api/v1/tenant/").status_code == 404


def test_a_name_over_the_limit_as_sent_is_refused_even_if_trimming_would_fit(api_client_for, tenant_a):
    """The schema's maxLength counts what was sent (found by the fuzzer: a control
    character that DRF trims as whitespace took a 201-character name under 200)."""
    response = api_client_for(tenant_a, role="admin").patch(
        "/api/v1/tenant/", {"name": "\x1f" + "a" * 200}, format="json"
    )
    assert response.status_code == 400 and "name" in response.json()
    assert Tenant.objects.get(pk=tenant_a.pk).name == tenant_a.name
