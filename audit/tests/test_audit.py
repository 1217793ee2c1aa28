"""The audit trail: what is recorded, the transaction rule, the append-only trigger,
retention, the API's permission and isolation."""

import io
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.models import Membership, User
from audit.models import AuditEvent
from audit.platform.models import PlatformEvent
from audit.services import REDACTED, audit_purge, audit_record
from core.middleware import RequestIdLogFilter
from tenants.models import Tenant
from tenants.services import tenant_change_status
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail():
    """`trail(tenant, **filters)`: the tenant's events recorded since this test began
    (end-to-end and concurrency tests commit events of their own)."""
    started = timezone.now()

    def read(tenant, **filters):
        with tenant_context(tenant):
            return list(AuditEvent.objects.filter(at__gte=started, **filters).order_by("at"))

    read.started = started
    return read


def login(host, email, password=PASSWORD, **headers):
    return APIClient(HTTP_HOST=host).post("/api/v1/auth/token/", {"email": email, "password": password}, **headers)


# --- what is recorded -----------------------------------------------------------------


def test_login_is_recorded_with_request_metadata(tenant_a, trail):
    response = login(
        "alpha.localhost", "manager@alpha.test", HTTP_X_REQUEST_ID="req-login-1", HTTP_USER_AGENT="curl/8.0"
    )
    assert response["X-Request-ID"] == "req-login-1"
    [event] = trail(tenant_a, action="auth.login")
    assert event.actor_email == "manager@alpha.test" and event.object_type == "user"
    assert (event.request_id, event.ip, event.user_agent, event.source) == (
        "req-login-1",
        "127.0.0.1",
        "curl/8.0",
        "api",
    )


def test_failed_login_is_recorded_without_the_password(tenant_a, trail):
    login("alpha.localhost", "viewer@alpha.test", "Wrong-Guess-123")
    [event] = trail(tenant_a, action="auth.login_failed")
    assert event.actor_id is None and event.changes == {"email": [None, "viewer@alpha.test"]}
    assert "Wrong-Guess-123" not in str(event.changes)


def test_logout_and_refresh_token_reuse_are_recorded(tenant_a, trail):
    pair = login("alpha.localhost", "member@alpha.test").json()
    client = APIClient(HTTP_HOST="alpha.localhost")
    rotated = client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).json()
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).status_code == 401
    [reuse] = trail(tenant_a, action="auth.token_reuse")
    assert reuse.actor_email == "member@alpha.test"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    assert client.post("/api/v1/auth/logout/", {"refresh": rotated["refresh"]}).status_code == 204
    assert [e.actor_email for e in trail(tenant_a, action="auth.logout")] == ["member@alpha.test"]


def test_public_host_sign_in_goes_to_the_platform_log(public_tenant, trail):
    login("localhost", "outsider@example.test")
    login("localhost", "outsider@example.test", "not-the-password")
    events = PlatformEvent.objects.filter(at__gte=trail.started).order_by("at")
    assert [(e.action, e.actor_email, e.tenant_slug) for e in events] == [
        ("auth.login", "outsider@example.test", ""),
        # A failed sign-in is a security event for operators, naming the account tried.
        ("security.login_failed", "outsider@example.test", ""),
    ]


def test_membership_and_role_changes_are_recorded_with_before_and_after(api_client_for, tenant_a, trail):
    admin = api_client_for(tenant_a, role="admin")
    target = Membership.objects.get(tenant=tenant_a, user__email="viewer@alpha.test")
    admin.patch(f"/api/v1/members/{target.pk}/", {"role": "member"})
    admin.delete(f"/api/v1/members/{target.pk}/")
    changed, removed = trail(tenant_a, action="membership.changed")[0], trail(tenant_a, action="membership.removed")[0]
    assert changed.changes["role"] == ["viewer", "member"] and changed.object_id == str(target.pk)
    assert removed.changes["role"] == ["member", None] and removed.actor_email == "admin@alpha.test"


def test_ownership_transfer_and_tenant_changes_are_recorded(api_client_for, tenant_a, trail):
    owner = api_client_for(tenant_a, role="owner")
    owner.patch("/api/v1/tenant/", {"name": "Alpha Two"})
    admin = Membership.objects.get(tenant=tenant_a, role="admin")
    owner.post("/api/v1/members/transfer-ownership/", {"member": str(admin.pk)})
    assert trail(tenant_a, action="tenant.updated")[0].changes == {"name": ["Alpha", "Alpha Two"]}
    assert trail(tenant_a, action="tenant.ownership_transferred")[0].changes["role"] == ["admin", "owner"]
    assert PlatformEvent.objects.filter(action="tenant.updated", tenant_slug="alpha").exists()


def test_command_changes_are_recorded_as_command(tenant_a, trail):
    call_command("suspend_tenant", "alpha", stdout=io.StringIO())
    platform = PlatformEvent.objects.get(action="tenant.suspended", tenant_slug="alpha")
    assert platform.source == "command" and platform.actor_id is None
    assert trail(tenant_a, action="tenant.suspended")[0].changes == {"status": ["active", "suspended"]}


def test_provisioning_opens_the_new_tenants_trail(platform, trail):
    call_command("provision_tenant", "omicron", "--name", "O", "--owner-email", "o@x.test", stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="omicron")
    assert [e.action for e in trail(tenant)] == ["tenant.provisioned", "membership.added"]
    assert PlatformEvent.objects.filter(action="user.created", object_type="user").exists()


def test_admin_changes_are_recorded_and_secrets_never_stored(platform, tenant_a, trail):
    operator = User.objects.create_superuser(email="ops@tessera.test", password="ops-password-long")
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    client.post(
        "/admin/accounts/user/add/",
        {
            "email": "made@admin.test",
            "password1": "Sup3r-Secret-Pass",
            "password2": "Sup3r-Secret-Pass",
            "usable_password": "true",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    created = PlatformEvent.objects.get(action="user.created", source="admin")
    assert created.actor_email == "ops@tessera.test"
    assert "Sup3r-Secret-Pass" not in str(created.changes)
    assert created.changes.get("password1") == REDACTED

    membership = Membership.objects.get(tenant=tenant_a, user__email="member@alpha.test")
    response = client.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {"user": str(membership.user_id), "tenant": str(tenant_a.pk), "role": "manager", "is_active": "on"},
    )
    assert response.status_code == 302
    [event] = trail(tenant_a, action="membership.changed")
    assert event.changes == {"role": ["member", "manager"]} and event.source == "admin"


def test_password_change_event_holds_no_password(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="member")
    client.post("/api/v1/me/password/", {"current_password": PASSWORD, "new_password": "another-long-passphrase"})
    event = PlatformEvent.objects.get(action="user.password_changed")
    assert event.changes == {"password": REDACTED}


# --- the transaction rule ------------------------------------------------------------


def test_rolled_back_change_leaves_no_event_and_committed_one_has_it(tenant_a, trail):
    with pytest.raises(RuntimeError), transaction.atomic():
        tenant_change_status(tenant=tenant_a, change="suspend")
        raise RuntimeError("something after the change failed")
    assert Tenant.objects.get(pk=tenant_a.pk).status == "active"
    assert not trail(tenant_a, action="tenant.suspended")
    assert not PlatformEvent.objects.filter(action="tenant.suspended").exists()

    tenant_change_status(tenant=tenant_a, change="suspend")
    assert len(trail(tenant_a, action="tenant.suspended")) == 1


def test_refused_request_records_nothing(api_client_for, tenant_a, trail):
    before = len(trail(tenant_a))
    response = api_client_for(tenant_a, role="admin").post("/api/v1/members/", {"email": "x@y.test", "role": "owner"})
    assert response.status_code == 400
    assert len(trail(tenant_a)) == before


# --- append-only ---------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["UPDATE {t} SET action = 'forged'", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_database_refuses_changes_to_audit_rows(tenant_a, statement):
    with tenant_context(tenant_a):
        audit_record(action="product.created", object_type="product", object_id="1")
        for table in ("audit_auditevent", "public.platform_audit_platformevent"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
                c.execute(statement.format(t=table))
        assert AuditEvent.objects.filter(action="product.created").count() == 1


def test_orm_update_and_delete_are_refused(tenant_a):
    with tenant_context(tenant_a):
        audit_record(action="product.created", object_type="product", object_id="1")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.update(action="forged")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.all().delete()


def _aged_event(days: int) -> AuditEvent:
    return AuditEvent.objects.create(
        action="test.aged", object_type="test", object_id=str(days), at=timezone.now() - timedelta(days=days)
    )


def test_retention_purge_removes_only_rows_older_than_the_retention(tenant_a, settings):
    assert settings.AUDIT_RETENTION_DAYS == 365
    with tenant_context(tenant_a):
        _aged_event(400), _aged_event(10)
        assert audit_purge() == 1
        assert list(AuditEvent.objects.filter(action="test.aged").values_list("object_id", flat=True)) == ["10"]
        # Setting the purge flag by hand does not unlock rows younger than the retention,
        # nor does claiming a shorter retention in settings without migrate_schemas.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute("SELECT set_config('tessera.audit_purge', 'on', true)")
            c.execute("DELETE FROM audit_auditevent WHERE action = 'test.aged'")
        settings.AUDIT_RETENTION_DAYS = 5
        with pytest.raises(DatabaseError, match="append-only"):
            audit_purge()
        assert AuditEvent.objects.filter(action="test.aged").count() == 1


def test_purge_command_covers_tenants_and_platform(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            _aged_event(800)
    out = io.StringIO()
    call_command("purge_audit_events", stdout=out)
    assert "alpha: 1 removed" in out.getvalue() and "beta: 1 removed" in out.getvalue()
    assert "platform: 0 removed" in out.getvalue()


# --- the API: permission, filters, read-only, isolation ------------------------------


@pytest.mark.parametrize(
    "role,status", [("viewer", 403), ("member", 403), ("manager", 403), ("admin", 200), ("owner", 200)]
)
def test_only_admin_and_owner_read_the_trail(api_client_for, tenant_a, role, status):
    assert api_client_for(tenant_a, role=role).get("/api/v1/audit-events/").status_code == status


def test_trail_is_read_only(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="owner")
    login("alpha.localhost", "viewer@alpha.test")
    event_id = client.get("/api/v1/audit-events/").json()["results"][0]["id"]
    assert client.post("/api/v1/audit-events/", {"action": "forged"}).status_code == 405
    assert client.patch(f"/api/v1/audit-events/{event_id}/", {"action": "forged"}).status_code == 405
    assert client.delete(f"/api/v1/audit-events/{event_id}/").status_code == 405


def test_trail_filters(api_client_for, tenant_a, platform, trail):
    login("alpha.localhost", "viewer@alpha.test")
    login("alpha.localhost", "viewer@alpha.test", "wrong-password-9")
    viewer = platform.user(tenant_a, "viewer")
    client = api_client_for(tenant_a, role="admin")

    since = trail.started.isoformat().replace("+00:00", "Z")

    def actions(query):
        rows = client.get(f"/api/v1/audit-events/?at_after={since}&{query}").json()["results"]
        return [row["action"] for row in rows]

    assert actions("action=auth.login_failed") == ["auth.login_failed"]
    assert set(actions(f"actor={viewer.pk}")) == {"auth.login"}
    assert set(actions("action_prefix=auth.")) == {"auth.login", "auth.login_failed"}
    assert actions(f"object_type=user&object_id={viewer.pk}&action=auth.login") == ["auth.login"]
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/audit-events/?at_after={future}").json()["count"] == 0
    row = client.get("/api/v1/audit-events/?action=auth.login").json()["results"][0]
    assert row["actor"] == {"id": str(viewer.pk), "email": viewer.email}
    assert client.get("/api/v1/audit-events/?at_after=yesterday").status_code == 400


def test_tenant_b_never_sees_tenant_a_events(api_client_for, tenant_a, tenant_b, trail):
    login("alpha.localhost", "viewer@alpha.test", HTTP_X_REQUEST_ID="alpha-only-marker")
    [event] = trail(tenant_a, request_id="alpha-only-marker")
    client = api_client_for(tenant_b, role="owner")
    assert "alpha-only-marker" not in client.get("/api/v1/audit-events/?page_size=200").content.decode()
    assert client.get(f"/api/v1/audit-events/{event.pk}/").status_code == 404
    assert client.get(f"/api/v1/audit-events/?object_id={event.object_id}").json()["count"] == 0


# --- request metadata ----------------------------------------------------------------


def test_forwarded_for_is_trusted_only_behind_a_configured_proxy(tenant_a, settings, trail):
    login("alpha.localhost", "viewer@alpha.test", HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_X_REQUEST_ID="direct")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    login("alpha.localhost", "viewer@alpha.test", HTTP_X_FORWARDED_FOR="203.0.113.9", HTTP_X_REQUEST_ID="proxied")
    assert trail(tenant_a, request_id="direct")[0].ip == "127.0.0.1"
    assert trail(tenant_a, request_id="proxied")[0].ip == "203.0.113.9"


def test_request_id_is_in_log_lines(platform):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(logging.Formatter("[%(request_id)s] %(message)s"))
    logger = logging.getLogger("tessera.access")
    logger.addHandler(handler)
    try:
        with override_settings(DEBUG=False):
            APIClient(HTTP_HOST="alpha.localhost").get("/api/v1/nothing/", HTTP_X_REQUEST_ID="log-trace-7")
    finally:
        logger.removeHandler(handler)
    assert "[log-trace-7] GET unmatched 404" in stream.getvalue()
