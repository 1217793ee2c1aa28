"""Password reset: always 202 with the same work done, an e-mailed single-use expiring
token, every session ended; on the public host only."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.api import views
from accounts.models import Membership, PasswordResetToken, User
from accounts.services import user_create
from accounts.tasks import flush_expired_tokens
from audit.platform.models import PlatformEvent
from config.celery import app
from core.roles import Role
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-3"


@pytest.fixture
def tasks_run_at_once():
    """Tasks run in the calling process, errors raised, as if a worker took them at once."""
    names = ("task_always_eager", "task_eager_propagates")
    before = {name: app.conf.get(name) for name in names}
    app.conf.update(dict.fromkeys(names, True))
    yield
    app.conf.update(before)


@pytest.fixture
def reset(tasks_run_at_once, public_tenant, django_capture_on_commit_callbacks):
    """`reset(email)`: POST /auth/password/reset/ on the public host, its task run and its
    e-mail sent; returns the response."""

    def ask(email, host="localhost"):
        with django_capture_on_commit_callbacks(execute=True):
            return APIClient(HTTP_HOST=host).post("/api/v1/auth/password/reset/", {"email": email})

    return ask


def _token(message) -> str:
    return re.search(r'"token": "([^"]+)"', message.body).group(1)


def _confirm(token, password=NEW_PASSWORD):
    return APIClient(HTTP_HOST="localhost").post(
        "/api/v1/auth/password/reset/confirm/", {"token": token, "password": password}
    )


def _bearer(host, access):
    return APIClient(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {access}")


def _login(tenant_host, email, password):
    return APIClient(HTTP_HOST=tenant_host).post("/api/v1/auth/token/", {"email": email, "password": password})


def test_reset_answers_202_alike_and_mails_only_an_account(reset):
    known, unknown = reset("Member@Alpha.test"), reset("nobody@nowhere.test")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [message] = mail.outbox
    assert message.to == ["member@alpha.test"] and message.subject == "Reset your Tessera password"
    assert "http://localhost/api/v1/auth/password/reset/confirm/" in message.body and not message.alternatives
    assert PasswordResetToken.objects.count() == 1
    stored = PasswordResetToken.objects.get().token_hash  # only the token's hash is kept
    assert stored == hashlib.sha256(_token(message).encode()).hexdigest() != _token(message)


def test_reset_request_does_the_same_work_whatever_the_address(public_tenant, monkeypatch):
    """The request only hands the address to a task: no query, nothing else, depends on it."""
    queued = []
    monkeypatch.setattr(views, "task_enqueue", lambda task, **kwargs: queued.append(kwargs))
    client = APIClient(HTTP_HOST="localhost")
    client.post("/api/v1/auth/password/reset/", {"email": "warm@nowhere.test"})  # caches warm
    shapes = []
    for email in ("owner@alpha.test", "nobody@nowhere.test"):
        with CaptureQueriesContext(connection) as queries:
            assert client.post("/api/v1/auth/password/reset/", {"email": email}).status_code == 202
        # Savepoint names count up from request to request; their places are what matter.
        shapes.append([re.sub(r'"s\d+_x\d+"', "?", query["sql"]) for query in queries.captured_queries])
    assert shapes[0] == shapes[1] and not any("accounts_user" in sql for sql in shapes[0])
    assert [call["email"] for call in queued] == ["warm@nowhere.test", "owner@alpha.test", "nobody@nowhere.test"]


def test_confirm_sets_the_password_and_ends_every_session(reset, tenant_a):
    old = _login("alpha.localhost", "member@alpha.test", PASSWORD).json()
    assert _bearer("alpha.localhost", old["access"]).get("/api/v1/me/").status_code == 200
    reset("member@alpha.test")
    token = _token(mail.outbox[-1])
    weak = _confirm(token, password="12345678901")
    assert weak.status_code == 400 and "password" in weak.json()
    assert _confirm(token).status_code == 204
    me = _bearer("alpha.localhost", old["access"]).get("/api/v1/me/")
    assert me.status_code == 401 and me.json()["code"] == "token_revoked"
    refresh = APIClient(HTTP_HOST="alpha.localhost").post("/api/v1/auth/token/refresh/", {"refresh": old["refresh"]})
    assert refresh.status_code == 401
    assert _login("alpha.localhost", "member@alpha.test", PASSWORD).status_code == 401
    assert _login("alpha.localhost", "member@alpha.test", NEW_PASSWORD).status_code == 200
    assert PlatformEvent.objects.filter(action="user.password_reset", actor_email="member@alpha.test").exists()


def test_reset_token_works_once_and_takes_the_others_with_it(reset):
    reset("viewer@alpha.test")
    reset("viewer@alpha.test")
    first, second = (_token(message) for message in mail.outbox)
    assert _confirm(second).status_code == 204
    again = _confirm(second, password="yet-another-passphrase-5")
    assert again.status_code == 400 and again.json()["token"]
    assert _confirm(first, password="yet-another-passphrase-5").status_code == 400
    assert User.objects.get(email="viewer@alpha.test").check_password(NEW_PASSWORD)


def test_expired_reset_token_fails_and_is_purged(reset):
    reset("manager@alpha.test")
    token = _token(mail.outbox[-1])
    PasswordResetToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _confirm(token).status_code == 400
    assert User.objects.get(email="manager@alpha.test").check_password(PASSWORD)
    flush_expired_tokens()
    assert not PasswordResetToken.objects.exists()


def test_password_change_voids_outstanding_reset_tokens(reset, api_client_for, tenant_a):
    reset("admin@alpha.test")
    token = _token(mail.outbox[-1])
    changed = api_client_for(tenant_a, role=Role.ADMIN).post(
        "/api/v1/me/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200
    assert _confirm(token, password="yet-another-passphrase-5").status_code == 400


def test_inactive_account_gets_no_reset_mail(reset):
    User.objects.filter(email="viewer@beta.test").update(is_active=False)
    assert reset("viewer@beta.test").status_code == 202
    assert mail.outbox == [] and not PasswordResetToken.objects.exists()


def test_password_less_account_finds_its_way_in_by_reset(reset, tenant_a):
    """A user left without a password (the old invitation flow made them) keeps its
    membership and sets a password by reset: no more dead end."""
    legacy = user_create(email="legacy@nowhere.test", password=None)
    Membership.objects.create(tenant=tenant_a, user=legacy, role=Role.MEMBER)
    reset("legacy@nowhere.test")
    assert _confirm(_token(mail.outbox[-1])).status_code == 204
    assert _login("alpha.localhost", "legacy@nowhere.test", NEW_PASSWORD).json()["role"] == "member"


def test_reset_is_public_host_only(reset, tenant_a):
    assert reset("member@alpha.test", host="alpha.localhost").status_code == 404
    response = APIClient(HTTP_HOST="alpha.localhost").post(
        "/api/v1/auth/password/reset/confirm/", {"token": "x", "password": NEW_PASSWORD}
    )
    assert response.status_code == 404 and mail.outbox == []


def test_reset_is_throttled_per_address_and_per_client(reset, monkeypatch):
    from accounts.throttles import PlatformRateThrottle

    rates = {**PlatformRateThrottle.THROTTLE_RATES, "password_reset": "2/h", "auth": "4/min"}
    monkeypatch.setattr(PlatformRateThrottle, "THROTTLE_RATES", rates)
    codes = [reset("owner@alpha.test").status_code for _ in range(3)]
    assert codes == [202, 202, 429] and len(mail.outbox) == 2
    refused = reset("nobody@nowhere.test")  # same answer for an address with no account
    assert refused.status_code == 202
    assert reset("someone@nowhere.test").status_code == 429  # the client's own budget
    assert "Retry-After" in reset("owner@alpha.test")


def test_reset_confirm_input_errors(public_tenant):
    client = APIClient(HTTP_HOST="localhost")
    assert "token" in client.post("/api/v1/auth/password/reset/confirm/", {"password": NEW_PASSWORD}).json()
    assert "email" in client.post("/api/v1/auth/password/reset/", {"email": "not-an-email"}).json()
    assert _confirm("forged-token").json()["token"]


def test_reset_service_does_nothing_for_unknown_addresses(public_tenant):
    services.password_reset_request(email="ghost@nowhere.test")
    assert not PasswordResetToken.objects.exists()
