"""Health probes, OpenAPI docs, request ids, error shapes, settings."""

import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import override_settings
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "10.0.0.7", "unknown.example"])
def test_healthz_answers_on_any_host(platform, host):
    response = APIClient(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency(platform):
    response = APIClient().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok", "broker": "ok"}}


def test_readyz_is_503_naming_what_is_down(platform):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = APIClient().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"].startswith("down") and checks["postgres"] == "ok" and checks["redis"] == "ok"


def test_schema_of_each_host_shows_its_own_endpoints(platform):
    public = APIClient(HTTP_HOST="localhost").get("/api/schema/?format=json").json()
    tenant = APIClient(HTTP_HOST="alpha.localhost").get("/api/schema/?format=json").json()
    assert "/api/v1/auth/register/" in public["paths"] and "/api/v1/members/" not in public["paths"]
    assert "/api/v1/members/" in tenant["paths"] and "/api/v1/auth/register/" not in tenant["paths"]
    assert "/api/v1/members/transfer-ownership/" in tenant["paths"]
    for schema in (public, tenant):
        assert schema["components"]["securitySchemes"]["jwtAuth"] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
    members = tenant["paths"]["/api/v1/members/"]["post"]
    assert {"201", "400", "401", "403", "409"} <= set(members["responses"])
    assert {"jwtAuth": []} in members["security"]


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_swagger_ui_is_served_without_a_cdn(platform, host):
    response = APIClient(HTTP_HOST=host).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and "cdn.jsdelivr" not in html
    # The start-up script is served apart (no inline script under the CSP); it loads the schema.
    script = APIClient(HTTP_HOST=host).get("/api/docs/?script=")
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


def test_request_id_is_echoed_or_generated(platform):
    client = APIClient(HTTP_HOST="alpha.localhost")
    assert client.get("/api/v1/me/", HTTP_X_REQUEST_ID="trace-123.abc")["X-Request-ID"] == "trace-123.abc"
    generated = client.get("/api/v1/me/", HTTP_X_REQUEST_ID="bad id; drop table")["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()


def test_unknown_api_path_is_json_404(platform):
    response = APIClient(HTTP_HOST="alpha.localhost").get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_tenant_cache_keys_are_isolated(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        cache.set("report", "A-secret")
    with schema_context(tenant_b.schema_name):
        assert cache.get("report") is None
        cache.set("report", "B-data")
    with schema_context(tenant_a.schema_name):
        assert cache.get("report") == "A-secret"


def _production_settings(**env) -> subprocess.CompletedProcess:
    code = (
        "import django; from django.conf import settings as s; django.setup(); "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env}
    if "SECRET_KEY" not in env:
        environment.pop("SECRET_KEY", None)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)


def test_production_refuses_missing_or_development_secret_key():
    from config.settings.base import DEVELOPMENT_SECRET_KEY

    assert _production_settings().returncode != 0
    refused = _production_settings(SECRET_KEY=DEVELOPMENT_SECRET_KEY)
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stderr


def test_production_turns_on_https_settings():
    result = _production_settings(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "False"]


@pytest.mark.parametrize("urlconf", ["config.urls_tenant", "config.urls_public"])
def test_openapi_schema_is_valid_without_warnings(urlconf, tmp_path):
    from django.core.management import call_command

    # --fail-on-warn: an endpoint whose shapes drf-spectacular had to guess fails here.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--urlconf", urlconf, "--file", str(tmp_path / "s.yaml")
    )


def test_every_tenant_endpoint_documents_auth_and_errors(platform):
    schema = APIClient(HTTP_HOST="alpha.localhost").get("/api/schema/?format=json").json()
    # Signed links carry their credential in the URL: no token, 403 when it is refused.
    signed = {"/api/v1/documents/{id}/content/"}
    public = {"/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/auth/invitation/accept/", *signed}
    public.add("/api/v1/")  # the API root: the endpoints and docs links, readable by anyone
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert codes & {"200", "201", "202", "204", "302"}, (path, method)
            if path in signed:
                assert "403" in codes and operation.get("security") in ([], [{}], None), (path, method)
            if path not in public and path != "/api/v1/auth/logout/":
                assert {"401"} <= codes and {"jwtAuth": []} in operation["security"], (path, method)
            if method in ("post", "put", "patch") and path not in public:
                assert "400" in codes or operation.get("requestBody") is None, (path, method)
    movement = schema["paths"]["/api/v1/stock-movements/"]["post"]
    assert "409" in movement["responses"] and "requestBody" in movement
    error_body = movement["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert error_body == "#/components/schemas/Error"
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"detail", "code"}
    assert set(schema["paths"]["/api/v1/stock-movements/{id}/"]) == {"get"}
    for action in ("submit", "approve", "reject", "receive", "cancel"):
        assert "409" in schema["paths"][f"/api/v1/purchase-requests/{{id}}/{action}/"]["post"]["responses"]
