"""Where a newcomer lands: the API root of each host, `/` on each host, JSON 404s under
/api/ (DEBUG on or off), ReDoc served locally, and 127.0.0.1 as the public host."""

import os
import re
import subprocess
import sys

import pytest
import yaml
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from testing.helpers import api_client
from testing.processes import ROOT

pytestmark = pytest.mark.django_db


def schema_paths(client: APIClient) -> set[str]:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return set(yaml.safe_load(response.content)["paths"])


def test_api_root_of_a_tenant_host_lists_its_endpoints_and_docs_without_a_token(tenant_a):
    response = APIClient(HTTP_HOST="alpha.localhost").get("/api/v1/")

    assert response.status_code == 200
    body = response.json()
    assert body["host"] == "tenant" and body["version"] == "v1"
    assert body["docs"] == {
        "swagger": "http://alpha.localhost/api/docs/",
        "redoc": "http://alpha.localhost/api/redoc/",
        "schema": "http://alpha.localhost/api/schema/",
    }
    assert body["endpoints"]["/api/v1/products/"] == ["GET", "POST"]
    assert body["endpoints"]["/api/v1/purchase-requests/{id}/approve/"] == ["POST"]
    # Exactly what the host's schema documents: the root cannot list a path the docs lack.
    assert set(body["endpoints"]) == schema_paths(APIClient(HTTP_HOST="alpha.localhost"))


def test_api_root_ignores_a_token_of_another_host(platform, tenant_a, tenant_b):
    foreign = api_client(tenant_b, platform.user(tenant_b, "owner"))
    foreign.defaults["HTTP_HOST"] = "alpha.localhost"
    assert foreign.get("/api/v1/me/").status_code == 401  # the token is refused elsewhere
    assert foreign.get("/api/v1/").status_code == 200


def test_api_root_is_the_same_for_every_tenant_and_names_none(tenant_a, tenant_b):
    alpha = APIClient(HTTP_HOST="alpha.localhost").get("/api/v1/").content.decode()
    beta = APIClient(HTTP_HOST="beta.localhost").get("/api/v1/").content.decode()

    assert alpha.replace("alpha.localhost", "HOST") == beta.replace("beta.localhost", "HOST")
    for marker in ("Alpha", "Beta", "alpha_", "owner@"):
        assert marker not in alpha.replace("alpha.localhost", "HOST")


def test_every_collection_the_tenant_root_lists_answers_the_owner(platform, tenant_a):
    owner = api_client(tenant_a, platform.user(tenant_a, "owner"))
    endpoints = APIClient(HTTP_HOST="alpha.localhost").get("/api/v1/").json()["endpoints"]
    listed = [path for path, methods in endpoints.items() if "GET" in methods and "{" not in path]

    assert "/api/v1/stock-levels/" in listed and "/api/v1/" in listed
    for path in listed:
        response = owner.get(path)
        # A module outside the tenant's plan (webhooks) answers its documented 403.
        assert response.status_code == 200 or response.json()["code"] == "module_disabled", path


def test_api_root_of_the_public_host_lists_the_platform_endpoints(public_tenant):
    client = APIClient(HTTP_HOST="localhost")
    body = client.get("/api/v1/").json()

    assert body["host"] == "public"
    assert body["docs"]["redoc"] == "http://localhost/api/redoc/"
    assert body["endpoints"]["/api/v1/auth/register/"] == ["POST"]
    assert "/api/v1/products/" not in body["endpoints"]
    assert set(body["endpoints"]) == schema_paths(client)


def test_public_landing_page_links_to_admin_docs_and_health(public_tenant):
    client = APIClient(HTTP_HOST="localhost")
    response = client.get("/")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    links = dict(re.findall(r'<a href="([^"]+)" id="link-([a-z-]+)"', html))
    assert set(links.values()) == {"admin", "healthz", "readyz", "api-root", "swagger", "redoc", "schema"}
    assert "&lt;slug&gt;.localhost" in html
    assert "http" not in html.replace("http://localhost/", "")  # nothing from another origin
    for href, name in links.items():
        answer = client.get(href)
        expected = 302 if name == "admin" else 200  # the admin sends a visitor to its sign-in
        assert answer.status_code == expected, href
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_root_of_a_tenant_host_points_at_the_api(tenant_a):
    response = APIClient(HTTP_HOST="alpha.localhost").get("/")

    assert response.status_code == 200
    assert response.json()["api_root"] == "http://alpha.localhost/api/v1/"
    assert response.json()["docs"]["swagger"] == "http://alpha.localhost/api/docs/"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("host", ["alpha.localhost", "localhost"])
def test_unknown_api_path_is_a_json_404_even_with_debug(settings, tenant_a, debug, host):
    settings.DEBUG = debug
    client = APIClient(HTTP_HOST=host)
    for path in ("/api/v1/nope/", "/api/nope", "/api/v2/", "/api/v1/products/not-a-uuid/extra/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found.", "code": "not_found"}, path
    # APPEND_SLASH still sends a path missing its slash to the real one.
    missing_slash = client.get("/api/v1/auth/token")
    assert missing_slash.status_code == 301 and missing_slash["Location"] == "/api/v1/auth/token/"


def test_redoc_is_served_from_local_files(tenant_a):
    response = APIClient(HTTP_HOST="alpha.localhost").get("/api/redoc/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<redoc spec-url="/api/schema/">' in html
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == ["/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"]
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    assert "googleapis" not in html and "https://" not in html
    # ReDoc injects its styles as it renders; scripts stay 'self' only.
    # The directives' order in the header is not fixed: compare them one by one.
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["style-src"] == "'self' 'unsafe-inline'" and policy["script-src"] == "'self'"


def test_a_public_host_alias_reaches_the_admin(settings, public_tenant):
    settings.PUBLIC_HOST_ALIASES = ["127.0.0.1"]
    response = APIClient(HTTP_HOST="127.0.0.1:8000").get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert APIClient(HTTP_HOST="127.0.0.1").get("/api/v1/").json()["host"] == "public"

    settings.PUBLIC_HOST_ALIASES = []
    assert APIClient(HTTP_HOST="127.0.0.1").get("/admin/").json()["code"] == "tenant_not_found"


def test_development_settings_make_localhost_and_127_0_0_1_the_public_host():
    code = (
        "from config.settings import local as s; "
        "print(sorted(s.PUBLIC_HOST_ALIASES), '127.0.0.1' in s.ALLOWED_HOSTS, s.PUBLIC_URL_SCHEME, s.PUBLIC_URL_PORT)"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PUBLIC_", "ALLOWED_HOSTS"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['127.0.0.1',", "'localhost']", "True", "http", "8000"]
