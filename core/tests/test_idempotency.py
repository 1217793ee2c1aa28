"""Idempotency-Key on POSTs, through the real HTTP stack (core.idempotency)."""

import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections
from django.test import RequestFactory
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from rest_framework.test import APIClient

from accounts.tests.factories import InvitationFactory
from accounts.tokens import tokens_issue
from core.errors import RequestTooLarge
from core.idempotency import request_fingerprint
from core.models import IdempotencyRecord
from core.roles import Role
from inventory import selectors, services
from inventory.models import Product
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD, in_threads

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def new_key() -> str:
    return str(uuid.uuid4())


def skus(client: APIClient, sku: str) -> int:
    """How many products with this SKU the client's tenant lists."""
    return client.get(PRODUCTS, {"sku": sku}).json()["count"]


def test_same_key_and_body_creates_once_and_replays_the_first_answer(api_client_for, tenant_a):
    manager, key = api_client_for(tenant_a, role=Role.MANAGER), new_key()
    body = {"sku": "IDEM-1", "name": "Bolt"}
    first = manager.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)
    second = manager.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content and second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert skus(manager, "IDEM-1") == 1


def test_same_key_with_another_body_is_refused_and_writes_nothing(api_client_for, tenant_a):
    manager, key = api_client_for(tenant_a, role=Role.MANAGER), new_key()
    assert manager.post(PRODUCTS, {"sku": "IDEM-2", "name": "Nut"}, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    reused = manager.post(PRODUCTS, {"sku": "IDEM-2B", "name": "Nut"}, HTTP_IDEMPOTENCY_KEY=key)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert skus(manager, "IDEM-2B") == 0
    # Another endpoint with the same body is another request too.
    elsewhere = manager.post("/api/v1/suppliers/", {"sku": "IDEM-2", "name": "Nut"}, HTTP_IDEMPOTENCY_KEY=key)
    assert elsewhere.status_code == 422


def test_without_a_key_every_post_runs(api_client_for, tenant_a):
    manager = api_client_for(tenant_a, role=Role.MANAGER)
    answers = [manager.post("/api/v1/suppliers/", {"name": "Twice Supply"}) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    assert not any(a.has_header("Idempotent-Replayed") for a in answers)


def test_keys_of_one_tenant_are_invisible_to_another(api_client_for, tenant_a, tenant_b):
    key, body = new_key(), {"sku": "IDEM-3", "name": "Washer"}
    in_a = api_client_for(tenant_a, role=Role.MANAGER).post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)
    in_b = api_client_for(tenant_b, role=Role.MANAGER).post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)
    assert in_a.status_code == in_b.status_code == 201
    assert not in_b.has_header("Idempotent-Replayed") and in_a.json()["id"] != in_b.json()["id"]
    assert skus(api_client_for(tenant_b, role=Role.VIEWER), "IDEM-3") == 1


def test_users_with_the_same_key_do_not_collide(api_client_for, tenant_a):
    key = new_key()
    by_manager = api_client_for(tenant_a, role=Role.MANAGER).post(
        PRODUCTS, {"sku": "IDEM-4M", "name": "Manager's"}, HTTP_IDEMPOTENCY_KEY=key
    )
    by_admin = api_client_for(tenant_a, role=Role.ADMIN).post(
        PRODUCTS, {"sku": "IDEM-4A", "name": "Admin's"}, HTTP_IDEMPOTENCY_KEY=key
    )
    assert by_manager.status_code == by_admin.status_code == 201
    assert not by_admin.has_header("Idempotent-Replayed")


def test_failure_inside_the_view_rolls_back_the_write_and_the_key(api_client_for, tenant_a, monkeypatch):
    """The case the mechanism is for: the service has written, then the view fails (its
    re-read loses the connection). Nothing stays, so the retry with the key runs again."""
    real_product_list, failures = selectors.product_list, [OperationalError("server closed the connection")]

    def product_list_failing_once():
        if failures:
            raise failures.pop()
        return real_product_list()

    monkeypatch.setattr(selectors, "product_list", product_list_failing_once)
    manager, key = api_client_for(tenant_a, role=Role.MANAGER), new_key()
    manager.raise_request_exception = False
    body = {"sku": "IDEM-5", "name": "Fragile"}
    failed = manager.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)
    assert failed.status_code == 503 and failed.json()["code"] == "database_unavailable"
    with tenant_context(tenant_a):
        assert not Product.objects.filter(sku="IDEM-5").exists()
    retried = manager.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)
    assert retried.status_code == 201 and not retried.has_header("Idempotent-Replayed")
    assert skus(manager, "IDEM-5") == 1


def test_errors_are_replayed_but_refusals_of_the_caller_are_not(api_client_for, tenant_a):
    manager, key = api_client_for(tenant_a, role=Role.MANAGER), new_key()
    invalid = [manager.post(PRODUCTS, {"name": "No SKU"}, HTTP_IDEMPOTENCY_KEY=key) for _ in range(2)]
    assert [a.status_code for a in invalid] == [400, 400] and invalid[1].content == invalid[0].content
    assert invalid[1]["Idempotent-Replayed"] == "true"
    # A viewer may not create products: a 403 says nothing about the operation, so it is
    # not kept, and the same key can still be used once the role allows it.
    viewer, key = api_client_for(tenant_a, role=Role.VIEWER), new_key()
    refused = [viewer.post(PRODUCTS, {"sku": "IDEM-6", "name": "No"}, HTTP_IDEMPOTENCY_KEY=key) for _ in range(2)]
    assert [a.status_code for a in refused] == [403, 403]
    assert not refused[1].has_header("Idempotent-Replayed")


def test_record_expires_after_24_hours(api_client_for, tenant_a):
    manager, key = api_client_for(tenant_a, role=Role.MANAGER), new_key()
    assert manager.post(PRODUCTS, {"sku": "IDEM-7", "name": "Old"}, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    with tenant_context(tenant_a):
        moved = IdempotencyRecord.objects.filter(key=key).update(
            created_at=timezone.now() - timedelta(hours=24, seconds=1)
        )
    assert moved == 1
    again = manager.post(PRODUCTS, {"sku": "IDEM-7B", "name": "New"}, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and not again.has_header("Idempotent-Replayed")
    assert skus(manager, "IDEM-7B") == 1


def test_purge_command_removes_expired_records_only(api_client_for, tenant_a, tenant_b, capsys):
    keys = {}
    for tenant in (tenant_a, tenant_b):
        client = api_client_for(tenant, role=Role.MANAGER)
        for age in ("old", "fresh"):
            keys[tenant.slug, age] = key = new_key()
            body = {"name": f"{age} supplier"}
            assert client.post("/api/v1/suppliers/", body, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
        with tenant_context(tenant):
            IdempotencyRecord.objects.filter(key=keys[tenant.slug, "old"]).update(
                created_at=timezone.now() - timedelta(hours=25)
            )
    call_command("purge_idempotency_keys")
    assert "alpha: 1 removed" in capsys.readouterr().out
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            left = set(IdempotencyRecord.objects.values_list("key", flat=True))
        assert keys[tenant.slug, "fresh"] in left and keys[tenant.slug, "old"] not in left


@pytest.mark.parametrize("key", ["k" * 256, "", "   ", "clé", "tab\tinside"])
def test_malformed_key_is_refused_before_anything_runs(api_client_for, tenant_a, key):
    manager = api_client_for(tenant_a, role=Role.MANAGER)
    response = manager.post(PRODUCTS, {"sku": "IDEM-8", "name": "Never"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_invalid"
    assert skus(manager, "IDEM-8") == 0


def test_keyed_body_over_the_memory_limit_is_refused(api_client_for, tenant_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    manager = api_client_for(tenant_a, role=Role.MANAGER)
    body = {"sku": "IDEM-10", "name": "x" * 300}
    response = manager.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=new_key())
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"
    assert skus(manager, "IDEM-10") == 0


def test_key_of_255_printable_characters_is_accepted(api_client_for, tenant_a):
    manager, key = api_client_for(tenant_a, role=Role.MANAGER), "~ !" + "k" * 252
    body = {"sku": "IDEM-9", "name": "Long key"}
    assert manager.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    assert manager.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)["Idempotent-Replayed"] == "true"


def test_credential_endpoints_ignore_the_key(tenant_a, platform):
    """Login answers with tokens: never stored, never replayed (a second login is
    another session)."""
    client, key = APIClient(HTTP_HOST="alpha.localhost"), new_key()
    body = {"email": platform.user(tenant_a, Role.MEMBER).email, "password": PASSWORD}
    logins = [client.post("/api/v1/auth/token/", body, HTTP_IDEMPOTENCY_KEY=key) for _ in range(2)]
    assert [a.status_code for a in logins] == [200, 200]
    assert logins[0].json()["refresh"] != logins[1].json()["refresh"]
    assert not logins[1].has_header("Idempotent-Replayed")
    with tenant_context(tenant_a):
        assert not IdempotencyRecord.objects.filter(key=key).exists()
    malformed = client.post("/api/v1/auth/token/", body, HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert malformed.status_code == 400 and malformed.json()["code"] == "idempotency_key_invalid"


def test_public_host_keeps_its_records_in_public(api_client_for, public_tenant, tenant_a, outsider):
    invitation = InvitationFactory(tenant=tenant_a, email=outsider.email)
    on_public, key = api_client_for(public_tenant, user=outsider), new_key()
    path = f"/api/v1/me/invitations/{invitation.pk}/accept/"
    first, second = (on_public.post(path, HTTP_IDEMPOTENCY_KEY=key) for _ in range(2))
    # Without the key the second answer would be 404: the invitation is accepted already.
    assert first.status_code == second.status_code == 200 and second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    with schema_context("public"):
        assert IdempotencyRecord.objects.filter(user_id=outsider.pk, key=key).exists()
    with tenant_context(tenant_a):
        assert not IdempotencyRecord.objects.filter(key=key).exists()


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_schema_documents_the_key_on_every_post(platform, host):
    schema = APIClient(HTTP_HOST=host).get("/api/schema/?format=json").json()
    posts = {path: ops["post"] for path, ops in schema["paths"].items() if "post" in ops}
    assert posts
    for path, operation in posts.items():
        [header] = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and header["schema"]["maxLength"] == 255, path
        assert "400" in operation["responses"], path
        replayable = "Accepted but not applied" not in header["description"]
        assert ("422" in operation["responses"]) == replayable, path
    login = posts["/api/v1/auth/token/"]
    assert "422" not in login["responses"]


# --- Real concurrency -------------------------------------------------------------------


@pytest.fixture(scope="module")
def delta(platform, django_db_blocker):
    """A tenant of this module's own, committed: racing threads have their own
    connections and must see committed rows (transactional_db would flush the shared
    tenants instead). Dropped afterwards."""
    with django_db_blocker.unblock():
        result = tenant_provision(slug="delta", name="Delta", owner_email="owner@delta.test", owner_password=PASSWORD)
        yield {"tenant": result.tenant, "token": tokens_issue(user=result.owner, tenant=result.tenant)["access"]}
        connections.close_all()
        tenant_delete(tenant=result.tenant, drop_schema=True)


def test_concurrent_requests_with_one_key_write_once(delta, monkeypatch):
    real_create = services.catalogue_create

    def slow_create(**kwargs):
        # Holds the key long enough for the other request to arrive while it runs.
        time.sleep(0.3)
        return real_create(**kwargs)

    monkeypatch.setattr(services, "catalogue_create", slow_create)
    key, body = new_key(), {"sku": "RACE-IDEM", "name": "Raced"}

    def post():
        client = APIClient(HTTP_HOST="delta.localhost", HTTP_AUTHORIZATION=f"Bearer {delta['token']}")
        return client.post(PRODUCTS, body, HTTP_IDEMPOTENCY_KEY=key)

    answers = sorted(in_threads(2, post), key=lambda a: (a.status_code, a.has_header("Idempotent-Replayed")))
    first, other = answers
    assert first.status_code == 201 and not first.has_header("Idempotent-Replayed")
    # The other one either found the first still running (409) or, if it came after
    # the commit, got its answer again.
    if other.status_code == 409:
        assert other.json()["code"] == "idempotency_key_in_use" and other["Retry-After"] == "1"
    else:
        assert other.status_code == 201 and other["Idempotent-Replayed"] == "true"
    retried = in_threads(1, post)[0]
    assert retried["Idempotent-Replayed"] == "true" and retried.content == first.content

    def count():
        with tenant_context(delta["tenant"]):
            return Product.objects.filter(sku="RACE-IDEM").count()

    assert in_threads(1, count) == [1]


@pytest.mark.parametrize("offset", [0, 1, 7, 20, 31])
def test_spooled_fingerprint_equals_the_in_memory_one(offset):
    """A view with its own body limit (uploads) is fingerprinted while the body is
    spooled, in 64 KiB reads; a boundary split across two reads still drops out, and
    the view then reads the whole body from the spool."""
    boundary = "b" * 30 + "X"
    filler = b"z" * (64 * 1024 - offset - 2)  # puts the second boundary across the 64 KiB line
    body = f"--{boundary}\r\n".encode() + filler + f"\r\n--{boundary}--\r\n".encode()

    def request():
        return RequestFactory().post(
            "/api/v1/documents/", body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    spooled = request()
    assert request_fingerprint(spooled, body_limit=len(body)) == request_fingerprint(request())
    assert spooled.read() == body
    with pytest.raises(RequestTooLarge):
        request_fingerprint(request(), body_limit=len(body) - 1)
