"""Events as the API shows them, and webhook endpoints' CRUD and input rules."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.services import membership_create
from accounts.tests.factories import UserFactory
from core.roles import Role
from events.models import Event, WebhookEndpoint
from events.services import events_sequence
from inventory import services as inventory
from inventory.jobs import low_stock_alerts_update
from inventory.models import Product, Supplier, Warehouse
from tenants.services import tenant_change_status
from tenants.tests.factories import TenantFactory

from .helpers import webhooks_on

pytestmark = pytest.mark.django_db


def events_of(client, **params) -> list[dict]:
    response = client.get("/api/v1/events/", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_product_write_records_an_event_showing_the_product_as_the_api_does(api_client_for, tenant_a):
    client = api_client_for(tenant_a, Role.ADMIN)
    created = client.post("/api/v1/products/", {"sku": "EV-1", "name": "Bolt", "reorder_level": "2"}).json()
    client.patch(f"/api/v1/products/{created['id']}/", {"name": "Big bolt"})
    shown = client.get(f"/api/v1/products/{created['id']}/").json()
    events = events_of(client, type="product.created,product.updated")
    assert [e["type"] for e in events] == ["product.created", "product.updated"]
    assert events[0]["data"] == created and events[1]["data"] == shown
    assert events[0]["version"] == 1
    assert client.get(f"/api/v1/events/{events[1]['id']}/").json() == events[1]


def test_a_rolled_back_write_leaves_no_event_and_a_committed_one_has_it(tenant_a, platform):
    owner = platform.user(tenant_a, Role.OWNER)
    with tenant_context(tenant_a):
        before = Event.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            inventory.catalogue_create(model=Supplier, actor=owner, name="Rolled back")
            raise RuntimeError("the request failed after the write")
        assert Event.objects.count() == before
        supplier = inventory.catalogue_create(model=Supplier, actor=owner, name="Kept")
        assert Event.objects.filter(type="supplier.created", data__id=str(supplier.pk)).count() == 1


def test_stock_and_purchase_request_transitions_are_events_in_order(tenant_a, platform, api_client_for):
    owner = platform.user(tenant_a, Role.OWNER)
    with tenant_context(tenant_a):
        product = inventory.catalogue_create(model=Product, actor=owner, sku="EV-PR", name="Nut")
        warehouse = inventory.catalogue_create(model=Warehouse, actor=owner, code="EVW", name="Main")
        supplier = inventory.catalogue_create(model=Supplier, actor=owner, name="Acme")
        request = inventory.purchase_request_create(
            supplier=supplier, actor=owner, lines=[{"product": product, "quantity": Decimal("4"), "unit_price": 1}]
        )
        inventory.purchase_request_submit(purchase_request=request, actor=owner)
        inventory.purchase_request_approve(purchase_request=request, actor=owner)
        inventory.purchase_request_receive(purchase_request=request, actor=owner, warehouse=warehouse)
    client = api_client_for(tenant_a, Role.ADMIN)
    types = [e["type"] for e in events_of(client, page_size=200)]
    assert types[-8:] == [
        "product.created",
        "warehouse.created",
        "supplier.created",
        "purchase_request.created",
        "purchase_request.submitted",
        "purchase_request.approved",
        "stock_movement.recorded",
        "purchase_request.received",
    ]
    received = events_of(client, type="purchase_request.received")[-1]["data"]
    assert received == client.get(f"/api/v1/purchase-requests/{request.pk}/").json()
    assert received["status"] == "received" and received["received_into"] == str(warehouse.pk)
    movement = events_of(client, type="stock_movement.recorded")[-1]["data"]
    assert movement["kind"] == "receipt" and movement["quantity"] == "4.000"


def test_deletions_carry_the_id_only(api_client_for, tenant_a):
    client = api_client_for(tenant_a, Role.ADMIN)
    warehouse = client.post("/api/v1/warehouses/", {"code": "GONE", "name": "Gone"}).json()
    assert client.delete(f"/api/v1/warehouses/{warehouse['id']}/").status_code == 204
    assert events_of(client, type="warehouse.deleted")[-1]["data"] == {"id": warehouse["id"]}


def test_member_and_tenant_status_changes_are_events_of_that_tenant(platform):
    tenant = TenantFactory()
    user = UserFactory()
    membership_create(tenant=tenant, user=user, role=Role.MEMBER)  # from public, as the admin would
    tenant_change_status(tenant=tenant, change="suspend")
    with tenant_context(tenant):
        events_sequence()
        events = list(Event.objects.order_by("position"))
    assert [e.type for e in events] == ["tenant.created", "member.added", "member.added", "tenant.suspended"]
    assert events[2].data["user"]["email"] == user.email and events[2].data["role"] == "member"
    assert events[3].data["status"] == "suspended" and events[3].data["slug"] == tenant.slug


def test_a_low_stock_crossing_is_an_event(tenant_a, platform):
    owner = platform.user(tenant_a, Role.OWNER)
    with tenant_context(tenant_a):
        product = inventory.catalogue_create(
            model=Product, actor=owner, sku="EV-LOW", name="Low", reorder_level=Decimal("5")
        )
        low_stock_alerts_update()
        event = Event.objects.filter(type="product.low_stock").latest("seq")
    assert event.data["id"] == str(product.pk) and event.data["on_hand"] == "0.000"


def test_events_cursor_resumes_where_it_stopped(api_client_for, tenant_a):
    client = api_client_for(tenant_a, Role.ADMIN)
    first = client.get("/api/v1/events/").json()
    for n in range(5):
        client.post("/api/v1/suppliers/", {"name": f"Cursor {n}"})
    page = client.get("/api/v1/events/", {"cursor": first["next_cursor"], "page_size": 2}).json()
    assert page["has_more"] is True
    names = [e["data"]["name"] for e in page["results"]]
    while page["has_more"]:
        page = client.get("/api/v1/events/", {"cursor": page["next_cursor"], "page_size": 2}).json()
        names += [e["data"]["name"] for e in page["results"]]
    assert names == [f"Cursor {n}" for n in range(5)]
    # Nothing new: the same cursor comes back, to ask with again later.
    again = client.get("/api/v1/events/", {"cursor": page["next_cursor"]}).json()
    assert again["results"] == [] and again["next_cursor"] == page["next_cursor"]


def test_events_filter_by_time(api_client_for, tenant_a):
    client = api_client_for(tenant_a, Role.ADMIN)
    client.post("/api/v1/suppliers/", {"name": "Timed"})
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert events_of(client, occurred_after=later) == []
    assert events_of(client, occurred_before=later, type="supplier.created")[-1]["data"]["name"] == "Timed"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "product.exploded"}, "type"),
        ({"cursor": "not-ours"}, "cursor"),
        ({"occurred_after": "x"}, "occurred_after"),
    ],
)
def test_events_bad_query_is_400_naming_the_field(api_client_for, tenant_a, params, field):
    response = api_client_for(tenant_a, Role.ADMIN).get("/api/v1/events/", params)
    assert response.status_code == 400 and field in response.json()


@pytest.mark.parametrize(("role", "expected"), [(Role.MANAGER, 403), (Role.ADMIN, 200), (Role.OWNER, 200)])
def test_events_and_webhooks_are_for_admins(api_client_for, tenant_a, role, expected):
    webhooks_on(tenant_a)
    client = api_client_for(tenant_a, role)
    assert client.get("/api/v1/events/").status_code == expected
    assert client.get("/api/v1/events/types/").status_code == expected
    assert client.get("/api/v1/webhooks/").status_code == expected


def test_webhooks_need_the_module(api_client_for, tenant_a):
    response = api_client_for(tenant_a, Role.OWNER).get("/api/v1/webhooks/")
    assert response.status_code == 403 and response.json()["code"] == "module_disabled"
    # The events themselves are the tenant's history: on every plan.
    assert api_client_for(tenant_a, Role.OWNER).get("/api/v1/events/").status_code == 200


def test_webhook_crud_shows_the_secret_once(api_client_for, tenant_a):
    webhooks_on(tenant_a)
    client = api_client_for(tenant_a, Role.ADMIN)
    body = {"url": "https://93.184.215.14/hooks", "event_types": ["product.created"], "description": "ERP"}
    created = client.post("/api/v1/webhooks/", body)
    assert created.status_code == 201, created.content
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["is_active"] is True
    shown = client.get(f"/api/v1/webhooks/{hook['id']}/").json()
    assert "secret" not in shown and shown["url"] == body["url"]
    assert all("secret" not in item for item in client.get("/api/v1/webhooks/").json()["results"])
    patched = client.patch(f"/api/v1/webhooks/{hook['id']}/", {"event_types": ["product.created", "product.deleted"]})
    assert patched.status_code == 200 and patched.json()["event_types"] == ["product.created", "product.deleted"]
    assert client.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 204
    assert client.get(f"/api/v1/webhooks/{hook['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://93.184.215.14/hooks", "event_types": ["product.created"]}, "url"),
        ({"url": "https://127.0.0.1/hooks", "event_types": ["product.created"]}, "url"),
        ({"url": "https://10.1.2.3/hooks", "event_types": ["product.created"]}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data/", "event_types": ["product.created"]}, "url"),
        ({"url": "https://[::1]/hooks", "event_types": ["product.created"]}, "url"),
        ({"url": "https://localhost/hooks", "event_types": ["product.created"]}, "url"),
        ({"url": "https://user:pw@93.184.215.14/", "event_types": ["product.created"]}, "url"),
        ({"url": "https://93.184.215.14/" + "a" * 2000, "event_types": ["product.created"]}, "url"),
        ({"url": "https://93.184.215.14/hooks", "event_types": ["product.exploded"]}, "event_types"),
        ({"url": "https://93.184.215.14/hooks", "event_types": []}, "event_types"),
        ({"url": "https://93.184.215.14/hooks", "event_types": "product.created"}, "event_types"),
    ],
)
def test_bad_webhook_input_is_400_naming_the_field_and_writes_nothing(api_client_for, tenant_a, settings, body, field):
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # production's rules
    webhooks_on(tenant_a)
    client = api_client_for(tenant_a, Role.ADMIN)
    response = client.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    with tenant_context(tenant_a):
        assert not WebhookEndpoint.objects.exists()


def test_patching_to_a_private_url_is_refused(api_client_for, tenant_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    webhooks_on(tenant_a)
    client = api_client_for(tenant_a, Role.ADMIN)
    hook = client.post("/api/v1/webhooks/", {"url": "https://93.184.215.14/", "event_types": ["product.created"]})
    response = client.patch(f"/api/v1/webhooks/{hook.json()['id']}/", {"url": "https://192.168.1.10/"})
    assert response.status_code == 400 and "url" in response.json()


def test_redeliver_and_replay_queue_deliveries_in_order(api_client_for, tenant_a):
    webhooks_on(tenant_a)
    client = api_client_for(tenant_a, Role.ADMIN)
    hook = client.post("/api/v1/webhooks/", {"url": "https://93.184.215.14/", "event_types": ["supplier.created"]})
    hook_id = hook.json()["id"]
    start = timezone.now()
    for n in range(3):
        client.post("/api/v1/suppliers/", {"name": f"Replay {n}"})
    replay = client.post(f"/api/v1/webhooks/{hook_id}/replay/", {"since": start.isoformat()})
    # The endpoint was given nothing yet (no dispatch ran): replay covers what it was given.
    assert replay.status_code == 202 and replay.json() == {"deliveries": 0}
    event = events_of(client, type="supplier.created")[-1]
    redelivered = client.post(f"/api/v1/webhooks/{hook_id}/redeliver/", {"event": event["id"]})
    assert redelivered.status_code == 202 and redelivered.json()["event"] == event["id"]
    assert client.post(f"/api/v1/webhooks/{hook_id}/redeliver/", {"event": hook_id}).status_code == 400
    log = client.get(f"/api/v1/webhooks/{hook_id}/deliveries/").json()["results"]
    assert [(d["event"], d["status"], d["manual"]) for d in log] == [(event["id"], "pending", True)]


@pytest.mark.parametrize("path", ["events", "webhooks"])
def test_a_malformed_id_is_a_404_not_a_lookup(api_client_for, tenant_a, path):
    """Found by the fuzzer: 36 characters of hex and dashes used to reach the lookup
    and fail there (a 500); the URLconf now takes only well-formed UUIDs."""
    webhooks_on(tenant_a)
    client = api_client_for(tenant_a, Role.ADMIN)
    response = client.get(f"/api/v1/{path}/0A3be024--7430-8d-7c2Cdb4DbB3316-dd5/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "query, ok",
    [("product.created", True), ("product.created,supplier.deleted", True), ("0", False), ("product.created,", False)],
)
def test_the_type_filter_takes_known_types_only(api_client_for, tenant_a, query, ok):
    response = api_client_for(tenant_a, Role.ADMIN).get("/api/v1/events/", {"type": query})
    assert response.status_code == (200 if ok else 400)
    if not ok:
        assert "type" in response.json()
