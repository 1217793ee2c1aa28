"""Host -> tenant routing: unknown hosts, status enforcement, the cached lookup."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tenants.models import Domain
from tenants.services import tenant_change_status

pytestmark = pytest.mark.django_db


def test_unknown_host_answers_json_404(platform):
    response = APIClient(HTTP_HOST="nobody.localhost").get("/api/v1/tenant/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown host.", "code": "tenant_not_found"}


def test_host_outside_allowed_hosts_answers_json_404(platform):
    response = APIClient(HTTP_HOST="evil.example.com").get("/api/v1/me/")
    assert response.status_code == 404
    assert response.json()["code"] == "tenant_not_found"


def test_tenant_api_on_public_host_is_404(api_client_for, public_tenant):
    response = api_client_for(public_tenant).get("/api/v1/tenant/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_admin_on_tenant_host_is_404(api_client_for, tenant_a):
    assert api_client_for(tenant_a).get("/admin/").status_code == 404
    assert api_client_for(tenant_a).get("/admin/login/").status_code == 404


def test_suspended_tenant_answers_403_and_resume_restores_it(api_client_for, tenant_a, tenant_b):
    client = api_client_for(tenant_a, role="viewer")
    assert client.get("/api/v1/tenant/").status_code == 200  # warms the routing cache

    tenant_change_status(tenant=tenant_a, change="suspend")
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 403
    assert response.json()["code"] == "tenant_suspended"
    assert api_client_for(tenant_b, role="viewer").get("/api/v1/tenant/").status_code == 200

    tenant_change_status(tenant=tenant_a, change="resume")
    assert client.get("/api/v1/tenant/").status_code == 200


def test_archived_tenant_answers_404(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="owner")
    tenant_change_status(tenant=tenant_a, change="archive")
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 404
    assert response.json()["code"] == "tenant_not_found"


def test_warm_routing_does_not_query_domains(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="viewer")
    client.get("/api/v1/me/")  # warm routing and membership caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/me/").status_code == 200
    # Nothing at all: routing, the user and the membership all come from caches.
    assert queries.captured_queries == []


def test_new_custom_domain_routes_and_removed_domain_stops(api_client_for, tenant_a):
    client = APIClient(HTTP_HOST="inventory.alpha-corp.test")
    assert client.get("/api/v1/tenant/").status_code == 404  # cached miss is not stored
    domain = Domain.objects.create(domain="inventory.alpha-corp.test", tenant=tenant_a)
    with pytest.MonkeyPatch.context() as patch:
        from django.conf import settings

        patch.setattr(settings, "ALLOWED_HOSTS", [*settings.ALLOWED_HOSTS, "inventory.alpha-corp.test"])
        assert client.get("/api/v1/tenant/").status_code == 401  # routed: now it wants a token
        domain.delete()
        assert client.get("/api/v1/tenant/").status_code == 404


def test_renamed_domain_old_host_stops_routing(platform, tenant_b):
    domain = Domain.objects.create(domain="old.beta-corp.test", tenant=tenant_b)
    from django.conf import settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "ALLOWED_HOSTS", ["old.beta-corp.test", "new.beta-corp.test"])
        assert APIClient(HTTP_HOST="old.beta-corp.test").get("/api/v1/tenant/").status_code == 401
        domain.domain = "new.beta-corp.test"
        domain.save()
        assert APIClient(HTTP_HOST="old.beta-corp.test").get("/api/v1/tenant/").status_code == 404
        assert APIClient(HTTP_HOST="new.beta-corp.test").get("/api/v1/tenant/").status_code == 401
