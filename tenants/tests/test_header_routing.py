"""Routing by header: on the API host, `X-Tenant: <slug>` routes as `<slug>.<PUBLIC_DOMAIN>` would."""

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tokens import tokens_issue
from tenants.exceptions import InvalidDomain
from tenants.services import tenant_change_status, tenant_provision
from tenants.slugs import slug_problem
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db

API_HOST = "api.localhost"


@pytest.fixture(autouse=True)
def _header_routing_on(settings):
    settings.TENANT_HEADER_ROUTING = True
    settings.TENANT_HEADER_HOST = API_HOST


def by_header(slug: str | None, token: str | None = None) -> APIClient:
    """A client on the API host naming `slug` in X-Tenant (no header when None)."""
    client = APIClient(HTTP_HOST=API_HOST)
    headers = {}
    if slug is not None:
        headers["HTTP_X_TENANT"] = slug
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.credentials(**headers)
    return client


def by_host(host: str, token: str | None = None) -> APIClient:
    client = APIClient(HTTP_HOST=host)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def access_token(platform, tenant, role: str = "viewer") -> str:
    return tokens_issue(user=platform.user(tenant, role), tenant=tenant)["access"]


def varies_on_tenant(response) -> bool:
    return "x-tenant" in [part.strip().lower() for part in response.get("Vary", "").split(",")]


def test_header_routes_to_the_tenant_like_its_host(platform, tenant_a):
    token = access_token(platform, tenant_a)
    by_header_response = by_header("alpha", token).get("/api/v1/tenant/")
    assert by_header_response.status_code == 200
    assert by_header_response.json() == by_host(tenant_a.primary_host, token).get("/api/v1/tenant/").json()
    assert by_header_response.json()["slug"] == "alpha"
    assert varies_on_tenant(by_header_response)


@pytest.mark.parametrize(
    ("change", "expected_status", "expected_code"),
    [(None, 200, None), ("suspend", 403, "tenant_suspended"), ("archive", 404, "tenant_not_found")],
)
def test_header_answers_what_the_host_answers_for_each_status(
    platform, tenant_a, change, expected_status, expected_code
):
    token = access_token(platform, tenant_a, role="owner")
    if change:
        tenant_change_status(tenant=tenant_a, change=change)
    host_response = by_host(tenant_a.primary_host, token).get("/api/v1/tenant/")
    header_response = by_header("alpha", token).get("/api/v1/tenant/")
    assert (header_response.status_code, header_response.json()) == (host_response.status_code, host_response.json())
    assert header_response.status_code == expected_status
    assert header_response.json().get("code") == expected_code
    assert varies_on_tenant(header_response)


@pytest.mark.parametrize("slug", [None, "", "nobody", "api", "public", "alpha.localhost", "alpha/x", "-alpha"])
def test_missing_unknown_or_malformed_header_answers_json_404(platform, slug):
    response = by_header(slug).get("/api/v1/tenant/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown host.", "code": "tenant_not_found"}
    assert varies_on_tenant(response)


def test_header_slug_is_case_insensitive_like_a_host(platform, tenant_a):
    response = by_header(" ALPHA ", access_token(platform, tenant_a)).get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response.json()["slug"] == "alpha"


def test_token_of_one_tenant_is_refused_for_another_by_header(platform, tenant_a, tenant_b):
    response = by_header("beta", access_token(platform, tenant_a)).get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_wrong_tenant"


def test_token_issued_by_header_is_the_tenants_own(platform, tenant_a, tenant_b):
    login = by_header("alpha").post(
        "/api/v1/auth/token/", {"email": "viewer@alpha.test", "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200
    assert login.json()["tenant"]["host"] == tenant_a.primary_host  # links name the tenant's own host
    access = login.json()["access"]
    assert by_header("alpha", access).get("/api/v1/tenant/").status_code == 200
    assert by_host(tenant_a.primary_host, access).get("/api/v1/tenant/").status_code == 200
    assert by_header("beta", access).get("/api/v1/tenant/").json()["code"] == "token_wrong_tenant"
    assert by_host(tenant_b.primary_host, access).get("/api/v1/tenant/").json()["code"] == "token_wrong_tenant"


def test_header_host_serves_only_the_tenant_urls(platform, tenant_a):
    assert by_header("alpha").get("/admin/login/").status_code == 404
    assert by_header("alpha").post("/api/v1/auth/register/", {}, format="json").status_code == 404


def test_header_is_ignored_on_other_hosts(platform, tenant_a, tenant_b):
    client = by_host(tenant_b.primary_host, access_token(platform, tenant_b))
    response = client.get("/api/v1/tenant/", HTTP_X_TENANT="alpha")
    assert response.json()["slug"] == "beta"
    assert not varies_on_tenant(response)
    public = by_host("localhost").get("/api/v1/tenant/", HTTP_X_TENANT="alpha")
    assert public.status_code == 404  # the public host has no tenant API, header or not


def test_off_by_default_the_api_host_is_unknown(settings, platform, tenant_a):
    settings.TENANT_HEADER_ROUTING = False
    response = by_header("alpha", access_token(platform, tenant_a)).get("/api/v1/tenant/")
    assert response.status_code == 404
    assert response.json()["code"] == "tenant_not_found"
    assert not varies_on_tenant(response)


def test_api_stays_a_reserved_slug_and_the_api_host_no_custom_domain(settings, platform):
    assert slug_problem("api") == '"api" is reserved.'
    settings.TENANT_HEADER_HOST = "api.example.com"
    with pytest.raises(InvalidDomain, match="TENANT_HEADER_HOST"):
        tenant_provision(slug="gamma", name="Gamma", owner_email="g@x.test", extra_domains=("api.example.com",))


def test_suspension_is_refused_by_header_as_soon_as_by_host(platform, tenant_a):
    token = access_token(platform, tenant_a)
    header_client, host_client = by_header("alpha", token), by_host(tenant_a.primary_host, token)
    assert header_client.get("/api/v1/tenant/").status_code == 200  # warms the routing cache

    tenant_change_status(tenant=tenant_a, change="suspend")
    assert header_client.get("/api/v1/tenant/").json()["code"] == "tenant_suspended"
    assert host_client.get("/api/v1/tenant/").json()["code"] == "tenant_suspended"

    tenant_change_status(tenant=tenant_a, change="resume")
    assert header_client.get("/api/v1/tenant/").status_code == 200


def test_routing_by_header_runs_the_same_queries_as_by_host(platform, tenant_a):
    token = access_token(platform, tenant_a)
    clients = {"host": by_host(tenant_a.primary_host, token), "header": by_header("alpha", token)}
    for client in clients.values():
        assert client.get("/api/v1/me/").status_code == 200  # warm routing and membership caches
    statements = {}
    for name, client in clients.items():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/me/").status_code == 200
        statements[name] = [query["sql"] for query in queries.captured_queries]
    assert statements["header"] == statements["host"]
    assert not any('"tenants_' in sql for sql in statements["header"])  # no domain or tenant lookup


def test_schema_and_docs_are_served_by_header(platform, tenant_a):
    schema = by_header("alpha").get("/api/schema/")
    assert schema.status_code == 200
    assert schema.content == by_host(tenant_a.primary_host).get("/api/schema/").content
    assert varies_on_tenant(schema)
    assert by_header("alpha").get("/api/docs/").status_code == 200


@pytest.mark.parametrize(("routing", "listed"), [("true", True), ("false", False)])
def test_api_host_joins_allowed_hosts_only_when_on(routing, listed):
    env = {key: value for key, value in os.environ.items() if key != "TENANT_HEADER_HOST"}
    env.update(TENANT_HEADER_ROUTING=routing, PUBLIC_DOMAIN="tessera.example", ALLOWED_HOSTS="x.test")
    code = "from config.settings import base; print(base.ALLOWED_HOSTS)"
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert ("api.tessera.example" in printed) is listed


def test_browser_preflight_to_the_api_host_admits_the_header(settings, platform):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.test"]
    response = by_header(None).options(
        "/api/v1/tenant/",
        HTTP_ORIGIN="https://app.example.test",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, x-tenant",
    )
    assert response.status_code == 200  # answered before routing: a preflight carries no X-Tenant
    assert "x-tenant" in response["Access-Control-Allow-Headers"]
