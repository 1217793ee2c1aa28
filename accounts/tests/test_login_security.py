"""Sign-in as an attacker would try it: no password oracle on a host one controls,
one throttling budget per account and per address whatever the host, and the
operators' security events that record it all."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.throttles import PlatformRateThrottle
from audit.models import AuditEvent
from audit.platform.models import SecurityEvent
from core.roles import Role

pytestmark = pytest.mark.django_db

RIGHT = "correct-horse-battery-42"  # the shared tenants' users' password


def _login(host, email, password):
    return APIClient(HTTP_HOST=host).post("/api/v1/auth/token/", {"email": email, "password": password})


def _rates(monkeypatch, **rates):
    defaults = {"login_account": "10000/min", "login_ip": "10000/min", "auth": "10000/min", "register": "10000/min"}
    monkeypatch.setattr(PlatformRateThrottle, "THROTTLE_RATES", {**defaults, **rates})


def test_right_and_wrong_password_of_a_non_member_look_the_same_on_ones_own_host(tenant_a, tenant_b):
    """Beta's admin guesses alpha's manager's password on beta's host: nothing there,
    not even beta's own audit trail, tells a right guess from a wrong one."""
    started = timezone.now()
    with tenant_context(tenant_b):
        before = AuditEvent.objects.count()
    _login(tenant_b.primary_host, "nobody@else.test", "warm-the-routing-cache")
    answers, statements = [], []
    for password in (RIGHT, "a-wrong-guess-17"):
        with CaptureQueriesContext(connection) as queries:
            response = _login(tenant_b.primary_host, "manager@alpha.test", password)
        answers.append((response.status_code, response.json()))
        # Savepoint names count up from request to request; their places are what matter.
        statements.append(
            [
                re.sub(r'"s\d+_x\d+"', "?", q["sql"]).split(" WHERE ")[0].split(" VALUES ")[0]
                for q in queries.captured_queries
            ]
        )
    assert (
        answers[0]
        == answers[1]
        == (
            401,
            {"detail": "No active account found with the given credentials.", "code": "invalid_credentials"},
        )
    )
    assert statements[0] == statements[1]  # the same work either way: no timing tell
    with tenant_context(tenant_b):
        assert AuditEvent.objects.count() == before
    events = SecurityEvent.objects.filter(
        action="security.login_failed", actor_email="manager@alpha.test", at__gte=started
    )
    assert [(e.tenant_slug, e.ip) for e in events] == [("beta", "127.0.0.1"), ("beta", "127.0.0.1")]


def test_a_members_failed_sign_in_stays_in_its_own_tenants_trail(tenant_a):
    _login(tenant_a.primary_host, "viewer@alpha.test", "a-wrong-guess-17")
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(
            action="auth.login_failed", changes__email=[None, "viewer@alpha.test"]
        ).exists()


def test_password_guesses_share_one_budget_per_account_across_every_host(tenant_a, tenant_b, monkeypatch):
    started = timezone.now()
    _rates(monkeypatch, login_account="3/15m")
    hosts = [tenant_a.primary_host, tenant_b.primary_host, "localhost", tenant_b.primary_host]
    responses = [_login(host, "Owner@Alpha.test", "a-wrong-guess-17") for host in hosts]
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert 0 < int(responses[-1]["Retry-After"]) <= 15 * 60
    assert responses[-1].json()["code"] == "throttled"
    # Another account from the same address is not locked by it.
    assert _login(tenant_a.primary_host, "viewer@alpha.test", RIGHT).status_code == 200
    [event] = SecurityEvent.objects.filter(action="security.throttled", at__gte=started)
    assert event.actor_email == "owner@alpha.test" and event.changes == {"scope": "login_account"}


def test_one_address_shares_one_budget_across_accounts_and_hosts(tenant_a, tenant_b, monkeypatch):
    started = timezone.now()
    _rates(monkeypatch, login_ip="3/m")
    attempts = [
        (tenant_a.primary_host, "viewer@alpha.test"),
        (tenant_b.primary_host, "viewer@beta.test"),
        ("localhost", "outsider@example.test"),
        (tenant_a.primary_host, "manager@alpha.test"),
    ]
    codes = [_login(host, email, "a-wrong-guess-17").status_code for host, email in attempts]
    assert codes == [401, 401, 401, 429]
    throttled = SecurityEvent.objects.filter(action="security.throttled", at__gte=started)
    assert throttled.filter(changes={"scope": "login_ip"}).count() == 1


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/v1/auth/token/refresh/", {"refresh": "not-a-token"}),
        ("/api/v1/auth/logout/", {"refresh": "not-a-token"}),
        ("/api/v1/auth/invitation/accept/", {"token": "y", "password": "z-long-enough-1"}),
    ],
)
def test_other_credential_endpoints_are_throttled_per_address(tenant_a, monkeypatch, path, body):
    _rates(monkeypatch, auth="2/m")
    client = APIClient(HTTP_HOST=tenant_a.primary_host)
    codes = [client.post(path, body).status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429


def test_registration_is_throttled_per_address(public_tenant, monkeypatch):
    _rates(monkeypatch, register="1/h")
    client = APIClient(HTTP_HOST="localhost")
    first = client.post("/api/v1/auth/register/", {"email": "first@new.test", "password": "a-fine-passphrase-9"})
    second = client.post("/api/v1/auth/register/", {"email": "second@new.test", "password": "a-fine-passphrase-9"})
    assert (first.status_code, second.status_code) == (201, 429) and "Retry-After" in second


def test_operators_see_security_events_in_the_admin(tenant_b, platform, client):
    _login(tenant_b.primary_host, "manager@alpha.test", "a-wrong-guess-17")
    operator = platform.user(tenant_b, Role.OWNER)
    operator.is_staff = operator.is_superuser = True
    operator.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(operator)
    page = client.get("/admin/platform_audit/securityevent/?q=manager%40alpha.test", HTTP_HOST="localhost")
    assert page.status_code == 200
    html = page.content.decode()
    assert "security.login_failed" in html and "manager@alpha.test" in html and "127.0.0.1" in html


def test_security_events_never_reach_a_tenants_audit_api(tenant_b, api_client_for):
    _login(tenant_b.primary_host, "manager@alpha.test", "a-wrong-guess-17")
    body = api_client_for(tenant_b, role=Role.ADMIN).get("/api/v1/audit-events/?action_prefix=security.").json()
    assert body["count"] == 0
    everything = api_client_for(tenant_b, role=Role.ADMIN).get("/api/v1/audit-events/").content.decode()
    assert "manager@alpha.test" not in everything


def test_refresh_token_reuse_is_a_security_event(tenant_a):
    started = timezone.now()  # platform events are append-only: others' may be there
    client = APIClient(HTTP_HOST=tenant_a.primary_host)
    pair = _login(tenant_a.primary_host, "member@alpha.test", RIGHT).json()
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).status_code == 200
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).status_code == 401
    [event] = SecurityEvent.objects.filter(action="security.token_reuse", at__gte=started)
    assert (event.actor_email, event.tenant_slug) == ("member@alpha.test", "alpha")
