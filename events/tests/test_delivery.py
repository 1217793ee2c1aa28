"""Delivery in-process against a real HTTP receiver on 127.0.0.1: signatures checked
with the Standard Webhooks reference library, retries, disabling, the outbound rules.
(The same through a real Celery worker: test_worker.py.)"""

import pytest
from django.core import mail
from django.db import transaction
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook

from core.roles import Role
from events import outbound, services
from events.catalog import EVENT_TYPES
from events.models import Delivery, WebhookEndpoint
from events.queue.models import PendingDispatch

from .helpers import receiver_start, webhooks_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver, server = receiver_start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooked(tenant_a, api_client_for, receiver):
    """Tenant A with the module and one endpoint at the receiver's /hook."""
    webhooks_on(tenant_a)
    client = api_client_for(tenant_a, Role.ADMIN)
    hook = client.post(
        "/api/v1/webhooks/", {"url": f"{receiver.base}/hook", "event_types": ["supplier.created"]}
    ).json()
    return client, hook


def dispatch_and_deliver(tenant) -> None:
    """What events_dispatch and webhook_deliver do in a worker, here."""
    with tenant_context(tenant):
        for endpoint_id in services.events_dispatch(schema_name=tenant.schema_name, deliver=True):
            services.endpoint_deliver(endpoint_id=endpoint_id, tenant=tenant)


def test_a_delivery_verifies_with_the_standard_webhooks_library(hooked, receiver, tenant_a):
    client, hook = hooked
    client.post("/api/v1/suppliers/", {"name": "Signed"})
    dispatch_and_deliver(tenant_a)
    [request] = receiver.at("/hook")
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    event = client.get("/api/v1/events/", {"type": "supplier.created"}).json()["results"][-1]
    assert payload == event and payload["data"]["name"] == "Signed"
    assert request.headers["webhook-id"] == event["id"] and request.headers["content-type"] == "application/json"
    with pytest.raises(Exception, match="signature"):
        Webhook(hook["secret"]).verify(request.body.replace(b"Signed", b"Forged"), request.headers)
    [delivery] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/").json()["results"]
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == ("succeeded", 1, 200)


def test_a_failing_endpoint_is_retried_then_disabled_and_its_admins_emailed(
    hooked, receiver, tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_RETRY_SCHEDULE = [0, 0]  # two retries, no wait
    client, hook = hooked
    receiver.answers["/hook"] = [500]
    client.post("/api/v1/suppliers/", {"name": "First"})
    client.post("/api/v1/suppliers/", {"name": "Second"})
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            dispatch_and_deliver(tenant_a)
    # Three attempts at the first event, none at the second: order is kept.
    assert [r.headers["webhook-id"] for r in receiver.at("/hook")] == [
        receiver.at("/hook")[0].headers["webhook-id"]
    ] * 3
    shown = client.get(f"/api/v1/webhooks/{hook['id']}/").json()
    assert shown["is_active"] is False and "3 attempts failed" in shown["disabled_reason"]
    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/").json()["results"]
    assert [d["status"] for d in log] == ["pending", "failed"]
    assert [(a["number"], a["response_status"], a["succeeded"]) for a in log[1]["attempt_log"]] == [
        (1, 500, False),
        (2, 500, False),
        (3, 500, False),
    ]
    [message] = mail.outbox
    assert sorted(message.to) == ["admin@alpha.test", "owner@alpha.test"]
    assert hook["id"] in message.body and "disabled" in message.subject

    # Enabled again, it goes on where it stopped: the second event.
    receiver.answers["/hook"] = [200]
    assert client.patch(f"/api/v1/webhooks/{hook['id']}/", {"is_active": True}).status_code == 200
    dispatch_and_deliver(tenant_a)
    assert (
        Webhook(hook["secret"]).verify(receiver.at("/hook")[-1].body, receiver.at("/hook")[-1].headers)["data"]["name"]
        == "Second"
    )


def test_retry_delays_grow_with_jitter_for_about_a_day(settings):
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    assert 20 * 3600 < sum(schedule) < 26 * 3600 and schedule == sorted(schedule)
    for attempt, base in enumerate(schedule, 1):
        delays = {services.retry_delay(attempt) for _ in range(20)}
        assert all(0.8 * base <= d <= 1.2 * base for d in delays) and len(delays) > 1
    assert services.retry_delay(len(schedule) + 1) is None


def test_the_address_is_checked_again_at_delivery(hooked, receiver, tenant_a, settings):
    client, hook = hooked
    # Saved while loopback was allowed (a name that resolved publicly then, say)...
    https = receiver.base.replace("http://", "https://")
    assert client.patch(f"/api/v1/webhooks/{hook['id']}/", {"url": f"{https}/hook"}).status_code == 200
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # ...and loopback at delivery time.
    client.post("/api/v1/suppliers/", {"name": "Never sent"})
    dispatch_and_deliver(tenant_a)
    assert receiver.at("/hook") == []
    with tenant_context(tenant_a):
        delivery = Delivery.objects.get(endpoint_id=hook["id"])
    assert (
        delivery.response_status is None
        and delivery.error.startswith("refused:")
        and "127.0.0.1 is a loopback address" in delivery.error
    )


def test_redirects_are_not_followed_and_replies_are_read_to_a_limit(receiver, settings):
    receiver.answers["/moved"] = [302]
    receiver.headers_out["/moved"] = {"Location": f"{receiver.base}/elsewhere"}
    reply = outbound.post(f"{receiver.base}/moved", body=b"{}", headers={})
    assert reply.status == 302 and not reply.ok and "redirects are not followed" in reply.error
    assert receiver.at("/elsewhere") == []
    receiver.body["/big"] = b"x" * 1_000_000
    settings.WEBHOOKS_RESPONSE_MAX_BYTES = 1000
    assert outbound.post(f"{receiver.base}/big", body=b"{}", headers={}).body == b"x" * 1000


def test_a_slow_receiver_times_out(receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.2
    receiver.slow["/slow"] = 1
    reply = outbound.post(f"{receiver.base}/slow", body=b"{}", headers={})
    assert reply.status is None and "timed out" in reply.error


def test_the_connection_goes_to_the_address_that_was_checked(receiver):
    """DNS rebinding: the name is not resolved again when connecting; the checked
    address is used, with the name kept for the Host header (and TLS)."""
    port = int(receiver.base.rsplit(":", 1)[1])
    connection = outbound._PinnedHTTPConnection(
        "rebound.invalid", port, address=outbound.ipaddress.ip_address("127.0.0.1"), timeout=5
    )
    connection.request("POST", "/pinned", body=b"{}")
    assert connection.getresponse().status == 200
    connection.close()
    assert receiver.at("/pinned")[0].headers["host"] == f"rebound.invalid:{port}"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.100.100.200",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert outbound.address_problem(outbound.ipaddress.ip_address(address)) is not None


def test_public_addresses_are_allowed():
    for address in ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"):
        assert outbound.address_problem(outbound.ipaddress.ip_address(address)) is None


def test_a_deleted_endpoint_stops_its_deliveries(hooked, receiver, tenant_a):
    client, hook = hooked
    client.post("/api/v1/suppliers/", {"name": "Orphan"})
    with tenant_context(tenant_a):
        services.events_dispatch(schema_name=tenant_a.schema_name, deliver=True)
    client.delete(f"/api/v1/webhooks/{hook['id']}/")
    dispatch_and_deliver(tenant_a)
    with tenant_context(tenant_a):
        assert not WebhookEndpoint.objects.exists() and not Delivery.objects.exists()
    assert receiver.at("/hook") == []


def test_only_tenants_with_work_are_queued_for_the_dispatcher(hooked, tenant_a, tenant_b, api_client_for):
    """Beat reads one public queue instead of every tenant's schema: a write queues its
    tenant (in its own transaction) only when the tenant has an endpoint to serve."""
    client, _ = hooked
    PendingDispatch.objects.all().delete()
    api_client_for(tenant_b, Role.ADMIN).post("/api/v1/suppliers/", {"name": "No endpoint here"})
    assert not PendingDispatch.objects.exists()
    with tenant_context(tenant_a), pytest.raises(RuntimeError), transaction.atomic():
        services.event_record(event_type=EVENT_TYPES["supplier.created"], object_id="rolled-back")
        assert PendingDispatch.objects.filter(schema_name=tenant_a.schema_name).count() == 1
        raise RuntimeError("rolled back")
    assert not PendingDispatch.objects.exists()
    client.post("/api/v1/suppliers/", {"name": "Queued"})
    client.post("/api/v1/suppliers/", {"name": "Queued too"})
    # One row per transaction (both writes are inside this test's), however many events.
    assert list(PendingDispatch.objects.values_list("schema_name", flat=True)) == [tenant_a.schema_name]
    # Beat's claim: each tenant once, not again until its dispatch had time to run.
    assert services.pending_dispatch_claim() == [tenant_a.schema_name]
    assert services.pending_dispatch_claim() == []
    with tenant_context(tenant_a):
        services.events_dispatch(schema_name=tenant_a.schema_name, deliver=True)
    assert not PendingDispatch.objects.exists()


def test_a_dispatch_names_each_endpoint_once_however_many_deliveries_wait(hooked, receiver, tenant_a):
    """The dispatch task sends a sender task per endpoint it returns after the first: an
    endpoint named once per waiting delivery meant a burst of N events queued N-1
    useless senders ahead of the tenant's next dispatch (seconds of delay)."""
    client, hook = hooked
    other = client.post(
        "/api/v1/webhooks/", {"url": f"{receiver.base}/other", "event_types": ["supplier.created"]}
    ).json()
    for n in range(3):
        client.post("/api/v1/suppliers/", {"name": f"Burst {n}"})
    with tenant_context(tenant_a):
        due = services.events_dispatch(schema_name=tenant_a.schema_name, deliver=True)
        assert Delivery.objects.filter(status="pending").count() == 6
    assert sorted(due) == sorted([hook["id"], other["id"]])
