"""Process-local copies of versioned cache entries (core.localcache): what a warm
request costs in Redis round trips, the memos' bound, and above all that a change made
in one process is seen by another process's very next request, through a real
gunicorn whose copies are warm."""

import time
from datetime import timedelta

import pytest
from django.db import connections
from django.test import RequestFactory
from redis.connection import AbstractConnection
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Membership, User
from accounts.services import member_update
from accounts.tokens import tokens_issue
from core.localcache import RequestStampsMiddleware, VersionedMemo, _request_stamps, stamp, stamps_prefetch
from plans import throttles
from plans.services import tenant_plan_change
from tenants.services import tenant_change_status, tenant_delete, tenant_provision
from testing.helpers import PASSWORD
from testing.processes import call_json, child_env, gunicorn


def test_a_memo_keeps_at_most_its_bound_dropping_the_least_recently_used(settings):
    settings.LOCAL_CACHE_ENTRIES = 3
    memo = VersionedMemo("test")
    for key in "abc":
        memo.set(key, key.upper(), 60)
    assert memo.get("a") == "A"  # now the most recently used
    memo.set("d", "D", 60)
    assert len(memo) == 3
    assert memo.get("b") is None and [memo.get(k) for k in "acd"] == ["A", "C", "D"]
    for index in range(1000):  # a worker serving many tenants: still three entries
        memo.set(index, index, 60)
    assert len(memo) == 3


def test_a_memo_entry_lives_no_longer_than_its_ttl():
    memo = VersionedMemo("test")
    memo.set("key", "value", 0.05)
    assert memo.get("key") == "value"
    time.sleep(0.1)
    assert memo.get("key", "gone") == "gone"
    assert len(memo) == 0


def test_the_request_stamps_are_forgotten_when_the_request_ends_even_by_an_exception(db):
    def view(request):
        stamps_prefetch(request)
        assert stamp("entitlements:version") is not None
        raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        RequestStampsMiddleware(view)(RequestFactory().get("/"))
    assert _request_stamps.get() is None


def _round_trips(monkeypatch) -> list[bytes]:
    """Every command sent to Redis, one entry per round trip (a pipeline is one)."""
    sent: list[bytes] = []
    real = AbstractConnection.send_packed_command

    def record(self, command, check_health=True):
        chunks = [command] if isinstance(command, bytes | str) else command
        sent.append(b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in chunks))
        return real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", record)
    return sent


@pytest.mark.django_db
@pytest.mark.parametrize("rate", [None, 60, 10**6])
def test_a_warm_authenticated_request_makes_one_redis_round_trip(
    tenant_a, api_client_for, monkeypatch, settings, django_capture_on_commit_callbacks, rate
):
    """The routing, plan and user versions in one MGET; the user's fields, membership,
    sign-out answer, route, plan and validated token are the process's own copies.
    On a plan limit under 200 a minute, the rate counter is a second one (a pipeline);
    above it, the count is held back and sent with others (plans.throttles)."""
    settings.TENANT_API_RATE_LIMIT = True
    monkeypatch.setattr(throttles, "_monotonic", lambda: 7000.0)  # no send for a second gone by
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_change(tenant=tenant_a, overrides={"quotas": {"api_requests_per_minute": rate}})
    client = api_client_for(tenant_a, "viewer")
    assert client.get("/api/v1/products/").status_code == 200  # cold: fills the caches
    sent = _round_trips(monkeypatch)
    assert client.get("/api/v1/products/").status_code == 200
    assert len(sent) == (2 if rate == 60 else 1), sent
    assert b"MGET" in sent[0]
    assert all(name in sent[0] for name in (b"route:version", b"entitlements:version", b"user-version:"))
    if rate == 60:
        assert b"INCRBY" in sent[1] and b"tenant-rate:" in sent[1]


@pytest.mark.django_db
def test_a_token_kept_by_the_process_is_refused_once_it_expires(tenant_a, platform, api_client_for):
    user = platform.user(tenant_a, "viewer")
    token = AccessToken(tokens_issue(user=user, tenant=tenant_a)["access"])
    token.set_exp(lifetime=timedelta(seconds=1))
    client = api_client_for(tenant_a)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/tenant/").status_code == 200  # validated, then kept
    time.sleep(1.2)
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 401 and response.json()["code"] == "token_not_valid"


# --- Across processes: a real gunicorn whose copies are warm ---------------------------

SLUG = "memo-one"


@pytest.fixture(scope="module")
def committed(platform, django_db_blocker):
    """A tenant of this module's own, committed, with its owner and a manager."""
    with django_db_blocker.unblock():
        made = tenant_provision(slug=SLUG, name="Memo", owner_email="owner@memo.test", owner_password=PASSWORD)
        manager = User.objects.create_user(email="manager@memo.test", password=PASSWORD)
        Membership.objects.create(tenant=made.tenant, user=manager, role="manager")
    yield made.tenant
    with django_db_blocker.unblock():
        connections.close_all()
        tenant_delete(tenant=made.tenant, drop_schema=True)
        User.objects.filter(email__in=["owner@memo.test", "manager@memo.test"]).delete()


def _call(base, method, path, token=None, body=None):
    return call_json(base, method, path, f"{SLUG}.localhost", body, token)


def _sign_in(base, email):
    status, body = _call(base, "POST", "/api/v1/auth/token/", body={"email": email, "password": PASSWORD})
    assert status == 200, body
    return body["access"]


@pytest.mark.e2e
def test_a_change_in_one_process_is_seen_by_the_next_request_of_another(committed, django_db_blocker):
    with gunicorn(child_env(LOG_LEVEL="WARNING")) as base:
        owner, manager = _sign_in(base, "owner@memo.test"), _sign_in(base, "manager@memo.test")
        for _ in range(3):  # warm: every copy taken
            assert _call(base, "GET", "/api/v1/products/", manager)[0] == 200
            assert _call(base, "GET", "/api/v1/products/", owner)[0] == 200
        assert _call(base, "POST", "/api/v1/products/", manager, {"sku": "M-1", "name": "One"})[0] == 201

        with django_db_blocker.unblock():
            membership = Membership.objects.get(tenant=committed, user__email="manager@memo.test")
            owner_user = User.objects.get(email="owner@memo.test")
            member_update(membership=membership, actor=owner_user, actor_role="owner", role="viewer")
        status, body = _call(base, "POST", "/api/v1/products/", manager, {"sku": "M-2", "name": "Two"})
        assert status == 403, body  # a viewer now, at the first request

        with django_db_blocker.unblock():
            member_update(membership=membership, actor=owner_user, actor_role="owner", is_active=False)
        assert _call(base, "GET", "/api/v1/products/", manager)[0] == 401

        with django_db_blocker.unblock():
            tenant_plan_change(tenant=committed, overrides={"modules": {"inventory": False}})
        status, body = _call(base, "GET", "/api/v1/products/", owner)
        assert (status, body["code"]) == (403, "module_disabled")
        with django_db_blocker.unblock():
            tenant_plan_change(tenant=committed, overrides={})
        assert _call(base, "GET", "/api/v1/products/", owner)[0] == 200

        with django_db_blocker.unblock():
            tenant_change_status(tenant=committed, change="suspend")
        status, body = _call(base, "GET", "/api/v1/products/", owner)
        assert (status, body["code"]) == (403, "tenant_suspended")
        with django_db_blocker.unblock():
            tenant_change_status(tenant=committed, change="resume")
        assert _call(base, "GET", "/api/v1/products/", owner)[0] == 200

        with django_db_blocker.unblock():
            owner_user.is_active = False
            owner_user.save()  # as the admin does: the user's signal drops every copy
        assert _call(base, "GET", "/api/v1/products/", owner)[0] == 401
