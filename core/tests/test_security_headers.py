"""Security headers on every response (the middleware's early answers and the health
probes included), the docs page's Content Security Policy, CORS closed by default, and
production settings that `check --deploy` finds nothing wrong with."""

import io
import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        assert response.get(name) == value, (name, response.get(name))
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("host", "path", "status"),
    [
        ("10.0.0.7", "/healthz", 200),  # liveness, on any host
        ("localhost", "/readyz", 200),
        ("unknown.example", "/api/v1/me/", 404),  # refused by the tenant middleware
        ("alpha.localhost", "/api/v1/me/", 401),
        ("alpha.localhost", "/api/v1/nothing-here/", 404),
        ("alpha.localhost", "/admin/", 404),
        ("localhost", "/api/docs/", 200),
        ("alpha.localhost", "/api/v1/products/?search=" + "a" * 3000, 414),
    ],
)
def test_every_response_carries_the_security_headers(platform, host, path, status):
    response = APIClient(HTTP_HOST=host).get(path)
    assert response.status_code == status
    assert_security_headers(response)


def test_suspended_tenants_403_carries_the_security_headers(api_client_for, tenant_a):
    call_command("suspend_tenant", tenant_a.slug, stdout=io.StringIO())  # rolls back with the test
    response = api_client_for(tenant_a, role="owner").get("/api/v1/me/")
    assert response.status_code == 403 and response.json()["code"] == "tenant_suspended"
    assert_security_headers(response)


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_docs_page_runs_only_scripts_of_its_own_origin(platform, host):
    client = APIClient(HTTP_HOST=host)
    page = client.get("/api/docs/")
    policy = dict(part.strip().split(" ", 1) for part in page["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in attributes for attributes in scripts), "an inline script would be blocked"
    # The start-up script is a request of its own, on this origin, naming this host's schema.
    start = re.search(r'<script src="(/api/docs/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    script = client.get(start)
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


def test_cors_is_closed_by_default(platform):
    preflight = APIClient(HTTP_HOST="alpha.localhost").options(
        "/api/v1/products/", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "Access-Control-Allow-Origin" not in preflight


def test_cors_admits_the_configured_origins_on_the_api_only(api_client_for, tenant_a):
    origin = "https://app.example.com"
    client = api_client_for(tenant_a, role="viewer")
    with override_settings(CORS_ALLOWED_ORIGINS=[origin]):
        preflight = client.options(
            "/api/v1/products/",
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
        )
        listed = client.get("/api/v1/products/", HTTP_ORIGIN=origin)
        other = client.get("/api/v1/products/", HTTP_ORIGIN="https://evil.example")
        admin = APIClient(HTTP_HOST="localhost").get("/admin/login/", HTTP_ORIGIN=origin)
    assert preflight["Access-Control-Allow-Origin"] == origin
    assert {"authorization", "idempotency-key"} <= set(preflight["Access-Control-Allow-Headers"].split(", "))
    assert listed.status_code == 200 and listed["Access-Control-Allow-Origin"] == origin
    assert "x-request-id" in listed["Access-Control-Expose-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in admin


# --- production settings -----------------------------------------------------------------


def run_production(args: list[str], **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env}
    for name in ("SECRET_KEY", "JWT_SIGNING_KEY"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, *args], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_manage_py_check_deploy_is_clean_with_production_settings():
    result = run_production(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_a_short_jwt_signing_key():
    code = "import django; django.setup()"
    long_secret = secrets.token_urlsafe(50)
    refused = run_production(["-c", code], SECRET_KEY=long_secret, JWT_SIGNING_KEY="x" * 31)
    assert refused.returncode != 0 and "JWT_SIGNING_KEY" in refused.stderr
    assert run_production(["-c", code], SECRET_KEY=long_secret, JWT_SIGNING_KEY="y" * 32).returncode == 0
    # Unset, it is SECRET_KEY, which is already held to the same length.
    assert run_production(["-c", code], SECRET_KEY=long_secret).returncode == 0


def test_gunicorn_trusts_forwarded_headers_from_localhost_only_by_default(monkeypatch):
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["forwarded_allow_ips"] == "127.0.0.1,::1"
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1,10.0.0.5")
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["forwarded_allow_ips"] == "127.0.0.1,10.0.0.5"
    command = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD"))
    assert "--config config/gunicorn.py" in command and "forwarded-allow-ips" not in command
