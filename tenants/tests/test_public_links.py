"""Links written where no request says how the platform is reached (e-mails from
services, `provision_tenant`'s output) follow PUBLIC_URL_SCHEME and PUBLIC_URL_PORT; and
a custom domain that ALLOWED_HOSTS would refuse is refused when it is added."""

import io
import json
import subprocess

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client, override_settings

from accounts.models import User
from accounts.services import invitation_create, password_reset_request
from core.roles import Role
from tenants.models import Domain, Tenant
from tenants.services import tenant_delete
from testing.processes import ROOT, child_env, gunicorn

pytestmark = pytest.mark.django_db

DEVELOPMENT = {"PUBLIC_URL_SCHEME": "http", "PUBLIC_URL_PORT": 8000}
PRODUCTION = {"PUBLIC_URL_SCHEME": "https", "PUBLIC_URL_PORT": None}


def provision(*args: str) -> str:
    out = io.StringIO()
    call_command("provision_tenant", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("urls", "link"), [(DEVELOPMENT, "http://alpha.localhost:8000"), (PRODUCTION, "https://alpha.localhost")]
)
def test_invitation_sent_outside_a_request_links_the_configured_url(
    settings, platform, tenant_a, django_capture_on_commit_callbacks, urls, link
):
    for name, value in urls.items():
        setattr(settings, name, value)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            tenant=tenant_a,
            email="newcomer@nowhere.test",
            role=Role.MEMBER,
            actor=platform.user(tenant_a, Role.OWNER),
            actor_role=Role.OWNER,
        )
    assert f"POST {link}/api/v1/auth/invitation/accept/\n" in mail.outbox[-1].body


def test_password_reset_sent_outside_a_request_links_the_configured_url(
    settings, platform, tenant_a, django_capture_on_commit_callbacks
):
    settings.PUBLIC_URL_SCHEME, settings.PUBLIC_URL_PORT = "http", 8000
    with django_capture_on_commit_callbacks(execute=True):
        password_reset_request(email=platform.user(tenant_a, Role.VIEWER).email)
    assert "POST http://localhost:8000/api/v1/auth/password/reset/confirm/\n" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("urls", "base"), [(DEVELOPMENT, "http://kappa.localhost:8000"), (PRODUCTION, "https://kappa.localhost")]
)
def test_provision_tenant_prints_the_url_with_its_port_and_a_signed_in_call(settings, platform, urls, base):
    for name, value in urls.items():
        setattr(settings, name, value)
    out = provision("kappa", "--name", "Kappa", "--owner-email", "k@x.test", "--owner-password", "kappa-pass-word-1")

    assert f"Provisioned kappa: {base}/api/v1/" in out
    token_line, call_line = out.splitlines()[-2:]
    assert token_line.strip().startswith(f"TOKEN=$(curl -s {base}/api/v1/auth/token/ ")
    assert '"password": "kappa-pass-word-1"' in token_line
    assert call_line.strip() == f'curl -s {base}/api/v1/tenant/ -H "Authorization: Bearer $TOKEN"'


def test_seed_demo_prints_the_configured_urls(settings, platform):
    settings.PUBLIC_URL_SCHEME, settings.PUBLIC_URL_PORT = "http", 8000
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "admin site   http://localhost:8000/admin/" in out.getvalue()
    assert "acme         http://acme.localhost:8000/api/v1/" in out.getvalue()


@pytest.fixture(scope="module")
def provisioned_on_a_live_server(platform, django_db_blocker):
    """gunicorn on a free port, and `provision_tenant`'s output for a committed tenant
    whose links carry that port."""
    with gunicorn(child_env(LOG_LEVEL="WARNING")) as server:
        port = int(server.rsplit(":", 1)[1])
        with django_db_blocker.unblock(), override_settings(PUBLIC_URL_SCHEME="http", PUBLIC_URL_PORT=port):
            out = provision("lambda-co", "--name", "Lambda Co", "--owner-email", "owner@lambda-co.test")
            try:
                yield out
            finally:
                connections.close_all()
                tenant_delete(tenant=Tenant.objects.get(slug="lambda-co"), drop_schema=True)
                User.objects.filter(email="owner@lambda-co.test").delete()


def test_the_printed_commands_work_against_the_server(provisioned_on_a_live_server):
    out = provisioned_on_a_live_server
    assert "Generated owner password (shown once): " in out
    commands = [line.strip() for line in out.splitlines()[-2:]]

    # Run as printed, by a shell: curl reaches *.localhost on the loopback by itself.
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(commands)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    tenant = json.loads(done.stdout)
    assert tenant["slug"] == "lambda-co" and tenant["name"] == "Lambda Co"


# --- Custom domains ALLOWED_HOSTS would refuse -------------------------------------------


def test_provision_refuses_a_domain_the_host_check_would_refuse(settings, platform):
    settings.ALLOWED_HOSTS = [".localhost"]
    before = list(Tenant.objects.values_list("slug", flat=True))
    with pytest.raises(CommandError) as refused:
        provision("mu", "--name", "Mu", "--owner-email", "mu@x.test", "--domain", "inventory.mu-corp.example")

    assert str(refused.value) == (
        "inventory.mu-corp.example is not in ALLOWED_HOSTS, so requests to it would be refused: add it there first."
    )
    assert list(Tenant.objects.values_list("slug", flat=True)) == before

    settings.ALLOWED_HOSTS = [".localhost", ".mu-corp.example"]
    provision("mu", "--name", "Mu", "--owner-email", "mu@x.test", "--domain", "inventory.mu-corp.example")
    assert Domain.objects.get(domain="inventory.mu-corp.example").tenant.slug == "mu"


def test_admin_refuses_a_domain_the_host_check_would_refuse(settings, tenant_a):
    settings.ALLOWED_HOSTS = [".localhost"]
    operator = User.objects.create_superuser(email="ops@tessera.test", password="ops-password-long")
    admin = Client(HTTP_HOST="localhost")
    admin.force_login(operator)

    response = admin.post(
        "/admin/tenants/domain/add/", {"domain": "shop.nowhere.example", "tenant": str(tenant_a.pk), "is_primary": ""}
    )
    assert response.status_code == 200  # the form again, with the reason
    assert "shop.nowhere.example is not in ALLOWED_HOSTS" in response.content.decode()
    assert not Domain.objects.filter(domain="shop.nowhere.example").exists()


def test_a_kept_domain_is_not_judged_again(settings, tenant_a):
    settings.ALLOWED_HOSTS = [".localhost", "old.alpha-corp.example"]
    domain = Domain.objects.create(domain="old.alpha-corp.example", tenant=tenant_a)
    settings.ALLOWED_HOSTS = [".localhost"]

    domain.full_clean()  # unchanged: a later ALLOWED_HOSTS does not lock the tenant's form
    domain.domain = "new.alpha-corp.example"
    with pytest.raises(ValidationError, match="not in ALLOWED_HOSTS"):
        domain.full_clean()
