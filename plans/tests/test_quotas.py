"""Quotas where the write happens, race-free; the API rate per tenant."""

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django_tenants.utils import schema_context, tenant_context

from accounts.tokens import tokens_issue
from core.quotas import QuotaExceeded
from documents.services import document_upload
from inventory.models import Product
from plans import throttles
from plans.services import entitlements_changed, tenant_plan_change
from tenants.services import tenant_delete, tenant_provision
from tenants.tests.factories import TenantFactory
from testing.helpers import PASSWORD, api_client, in_threads

pytestmark = pytest.mark.django_db


def owner_client(tenant):
    return api_client(tenant, tenant.memberships.get(role="owner").user)


@pytest.fixture
def small(django_capture_on_commit_callbacks):
    """A tenant whose plan allows 2 products, 1 warehouse, 2 seats, 10 bytes stored."""
    tenant = TenantFactory(plan="free")
    quotas = {"products": 2, "warehouses": 1, "members": 2, "storage_bytes": 10}
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_change(tenant=tenant, overrides={"modules": {"documents": True}, "quotas": quotas})
    return tenant, owner_client(tenant)


def test_products_and_warehouses_stop_at_the_limit(small):
    tenant, client = small
    for n in range(2):
        assert client.post("/api/v1/products/", {"sku": f"P{n}", "name": "p"}).status_code == 201
    refused = client.post("/api/v1/products/", {"sku": "P9", "name": "p"})
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "This tenant's plan allows 2 for products; 2 are used. Nothing was changed.",
        "code": "quota_exceeded",
        "quota": "products",
        "limit": 2,
        "used": 2,
    }
    assert client.post("/api/v1/warehouses/", {"code": "A", "name": "a"}).status_code == 201
    assert client.post("/api/v1/warehouses/", {"code": "B", "name": "b"}).json()["quota"] == "warehouses"
    assert client.post("/api/v1/suppliers/", {"name": "no quota"}).status_code == 201
    with tenant_context(tenant):
        assert Product.objects.count() == 2


def test_members_count_invitations_as_seats(small):
    _, client = small  # the owner holds one seat
    assert client.post("/api/v1/members/", {"email": "one@x.test", "role": "member"}).status_code == 201
    refused = client.post("/api/v1/members/", {"email": "two@x.test", "role": "member"})
    assert refused.status_code == 403 and refused.json()["quota"] == "members"


def test_stored_bytes_count_new_content_only(small, media_root):
    _, client = small

    def upload(content: bytes):
        file = SimpleUploadedFile("f.bin", content)
        return client.post("/api/v1/documents/", {"file": file}, format="multipart")

    assert upload(b"12345678").status_code == 201
    assert upload(b"12345678").status_code == 201  # the same content again takes no space
    refused = upload(b"abc")
    assert refused.status_code == 403 and refused.json()["quota"] == "storage_bytes"
    assert refused.json()["used"] == 8
    assert client.get("/api/v1/documents/stats/").json()["blobs"] == 1


@pytest.fixture(scope="module")
def racing(platform, django_db_blocker):
    """A committed tenant (threads have their own connections) allowed 5 products."""
    with django_db_blocker.unblock():
        result = tenant_provision(slug="rho", name="Rho", owner_email="owner@rho.test", owner_password=PASSWORD)
        tenant_plan_change(tenant=result.tenant, overrides={"quotas": {"products": 5}})
        entitlements_changed()
        yield result.tenant, tokens_issue(user=result.owner, tenant=result.tenant)["access"]
        connections.close_all()
        tenant_delete(tenant=result.tenant, drop_schema=True)


def test_concurrent_creates_end_exactly_at_the_limit(racing):
    tenant, token = racing
    numbers = iter(range(100))

    def create():
        client = api_client(tenant)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.post("/api/v1/products/", {"sku": f"R{next(numbers)}", "name": "r"}).status_code

    statuses = in_threads(12, create)
    assert sorted(statuses) == [201] * 5 + [403] * 7
    with tenant_context(tenant):
        assert Product.objects.count() == 5


def test_api_rate_per_tenant_is_429_with_retry_after(small, django_capture_on_commit_callbacks, settings):
    settings.TENANT_API_RATE_LIMIT = True
    tenant, client = small
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_change(tenant=tenant, overrides={"quotas": {"api_requests_per_minute": 3}})
    answers = [client.get("/api/v1/products/") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429 and 1 <= int(answers[3]["Retry-After"]) <= 60
    other = owner_client(TenantFactory(plan="free"))
    assert other.get("/api/v1/products/").status_code == 200  # another tenant's budget is its own


def _sends(monkeypatch) -> list[dict[str, int]]:
    """Every send of held counts (one round trip each); a count sent on its own fails."""
    sent: list[dict[str, int]] = []
    real = throttles._COUNTERS.incr_many

    def record(counts, timeout):
        sent.append(dict(counts))
        return real(counts, timeout)

    def alone(*args, **kwargs):
        raise AssertionError("a limit of 300 a minute is counted in batches")

    monkeypatch.setattr(throttles._COUNTERS, "incr_many", record)
    monkeypatch.setattr(throttles._COUNTERS, "incr", alone)
    return sent


def _hold_clocks(monkeypatch, window: float) -> None:
    """The window's clock and the clock of sends held still: all of a test in one
    minute, and no send made because a second went by."""
    monkeypatch.setattr(throttles, "_clock", lambda: window)
    monkeypatch.setattr(throttles, "_monotonic", lambda: 5000.0)
    monkeypatch.setattr(throttles, "_sent_at", 5000.0)


def _rate_tenant(limit: int):
    tenant = TenantFactory(plan="free")
    tenant_plan_change(tenant=tenant, overrides={"quotas": {"api_requests_per_minute": limit}})
    return tenant, owner_client(tenant)


def test_a_high_rate_is_counted_in_batches_and_still_stops_at_the_limit(small, settings, monkeypatch):
    """A limit of 300 a minute: this process sends its count every 3 requests (1 % of
    the limit), so a third of the round trips, and the 301st request is refused all the
    same."""
    settings.TENANT_API_RATE_LIMIT = True
    tenant, client = small
    tenant_plan_change(tenant=tenant, overrides={"quotas": {"api_requests_per_minute": 300}})
    entitlements_changed()
    _hold_clocks(monkeypatch, 1_800_000_000.0)
    sent = _sends(monkeypatch)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(301)]
    assert statuses == [200] * 300 + [429]
    assert len(sent) == 100  # one per 3 requests
    shared = caches["throttle"].get(f"tenant-rate:{tenant.pk}:{1_800_000_000 // 60}")
    assert shared == 300  # the 301st is held back in this process, its share not full


def test_traffic_spread_over_tenants_sends_their_counts_together(settings, monkeypatch):
    """Three tenants at 300 a minute served in turn: one send carries all three
    counts, so the round trips are a third of one per 3 requests, and each tenant is
    still refused past its own limit, each shared total exact after the last send."""
    settings.TENANT_API_RATE_LIMIT = True
    tenants = [_rate_tenant(300) for _ in range(3)]
    entitlements_changed()
    _hold_clocks(monkeypatch, 1_800_000_060.0)
    sent = _sends(monkeypatch)
    statuses: dict[int, list[int]] = {tenant.pk: [] for tenant, _ in tenants}
    for _ in range(301):
        for tenant, client in tenants:
            statuses[tenant.pk].append(client.get("/api/v1/me/").status_code)
    assert all(got == [200] * 300 + [429] for got in statuses.values()), statuses
    assert len(sent) <= 903 // 6  # not one send per tenant per 3 requests (301)
    assert any(len(counts) == 3 for counts in sent)
    with throttles._lock:
        throttles._send(5000.0)
    window = 1_800_000_060 // 60
    assert [caches["throttle"].get(f"tenant-rate:{t.pk}:{window}") for t, _ in tenants] == [301] * 3


def test_a_tenant_over_its_limit_elsewhere_is_refused_here_after_one_share(settings, monkeypatch):
    """Other processes spent this tenant's whole minute: a process that has not served
    it yet lets through less than its 1 % share (3 of 300), then refuses."""
    settings.TENANT_API_RATE_LIMIT = True
    tenant, client = _rate_tenant(300)
    entitlements_changed()
    _hold_clocks(monkeypatch, 1_800_000_120.0)
    caches["throttle"].set(f"tenant-rate:{tenant.pk}:{1_800_000_120 // 60}", 300, 70)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(5)]
    assert statuses == [200, 200, 429, 429, 429]


def test_quotas_hold_in_tasks_and_commands_too(small, media_root):
    """In a task or a command the connection holds a stand-in for the tenant
    (schema_context), not its row: the limit is still the tenant's."""
    tenant, _ = small
    with schema_context(tenant.schema_name), pytest.raises(QuotaExceeded):
        document_upload(file=ContentFile(b"more than ten bytes", name="big.txt"), actor=None)


def test_tenant_endpoint_shows_usage_against_each_quota(small):
    _, client = small
    client.post("/api/v1/products/", {"sku": "Q1", "name": "q"})
    quotas = client.get("/api/v1/tenant/").json()["quotas"]
    assert quotas["products"] == {"limit": 2, "used": 1}
    assert quotas["warehouses"] == {"limit": 1, "used": 0}
    assert quotas["members"] == {"limit": 2, "used": 1}
    assert quotas["storage_bytes"] == {"limit": 10, "used": 0}
    assert quotas["api_requests_per_minute"] == {"limit": 60, "used": None}
