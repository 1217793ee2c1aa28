"""Webhooks end to end: a real Celery worker on the real broker, a real HTTP receiver on
127.0.0.1, and two committed tenants of this module's own (dropped afterwards) that
subscribe to the same event types, their deliveries made by the same worker process.

Every write and read goes through the API from a thread of its own (autocommit), as
clients' requests do: the worker sees exactly what committed. Signatures are checked
with the Standard Webhooks reference library (`standardwebhooks`), never our code.
"""

import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.db import connections, transaction
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from accounts.tokens import tokens_issue
from events.models import Event
from inventory import services as inventory
from inventory.models import Supplier
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD, in_threads
from testing.processes import ROOT, child_env

from .helpers import receiver_start, webhooks_on

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
TYPES = ["supplier.created", "supplier.updated"]


@pytest.fixture(scope="module")
def tenants(platform, django_db_blocker):
    made = {}
    with django_db_blocker.unblock():
        for slug in ("hooka", "hookb"):
            result = tenant_provision(
                slug=slug, name=slug.title(), owner_email=f"owner@{slug}.test", owner_password=PASSWORD
            )
            webhooks_on(result.tenant)
            made[slug] = {"tenant": result.tenant, "owner": result.owner}
        yield made
        connections.close_all()
        for item in made.values():
            tenant_delete(tenant=item["tenant"], drop_schema=True)


@pytest.fixture(scope="module")
def receiver():
    receiver, server = receiver_start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def worker(tenants):
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING", "--pool=solo"]
    command += ["-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        # Two quick retries, then the endpoint is disabled.
        env=child_env(WEBHOOKS_RETRY_SCHEDULE="0.3,0.3", CELERY_VISIBILITY_TIMEOUT="30"),
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("WORKER_LOG", os.devnull), "ab"),  # noqa: SIM115 - the worker's, closed with it
        start_new_session=True,
    )
    yield process
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


def api(item, method: str, path: str, data=None) -> tuple[int, dict]:
    """One request to the tenant's API as its owner, from a thread: committed when it
    answers, like a client's."""

    def call():
        client = APIClient(HTTP_HOST=f"{item['tenant'].slug}.localhost")
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=item['owner'], tenant=item['tenant'])['access']}"
        )
        response = getattr(client, method)(path, data, format="json")
        return response.status_code, (response.json() if response.content else {})

    return in_threads(1, call)[0]


def hook(item, receiver, path: str, types=TYPES) -> dict:
    status, body = api(item, "post", "/api/v1/webhooks/", {"url": f"{receiver.base}{path}", "event_types": types})
    assert status == 201, body
    return body


def cursor(item) -> str:
    return api(item, "get", "/api/v1/events/")[1]["next_cursor"]


def events_since(item, after: str, types=TYPES) -> list[dict]:
    return api(item, "get", "/api/v1/events/", {"cursor": after, "type": ",".join(types), "page_size": 200})[1][
        "results"
    ]


def verified(secret: str, requests) -> list[dict]:
    return [Webhook(secret).verify(request.body, request.headers) for request in requests]


def test_each_tenant_receives_its_own_events_in_order_signed(tenants, receiver, worker):
    a, b = tenants["hooka"], tenants["hookb"]
    start = {"a": cursor(a), "b": cursor(b)}
    hook_a, hook_b = hook(a, receiver, "/a"), hook(b, receiver, "/b")
    for n in range(5):
        api(a, "post", "/api/v1/suppliers/", {"name": f"A-{n}"})
        api(b, "post", "/api/v1/suppliers/", {"name": f"B-{n}"})
    first = events_since(a, start["a"])[0]["data"]["id"]
    api(a, "patch", f"/api/v1/suppliers/{first}/", {"name": "A-0 renamed"})
    receiver.wait(lambda: len(receiver.at("/a")) == 6 and len(receiver.at("/b")) == 5)

    got_a, got_b = verified(hook_a["secret"], receiver.at("/a")), verified(hook_b["secret"], receiver.at("/b"))
    # In commit order, exactly the events the tenant's own API lists, and nothing else.
    assert got_a == events_since(a, start["a"]) and got_b == events_since(b, start["b"])
    assert [e["data"]["name"] for e in got_a] == [*(f"A-{n}" for n in range(5)), "A-0 renamed"]
    assert all(e["data"]["name"].startswith("B-") for e in got_b)
    # B's secret cannot pass A's deliveries off as B's.
    with pytest.raises(Exception, match="signature"):
        verified(hook_b["secret"], receiver.at("/a")[:1])


def test_a_failing_receiver_is_retried_until_it_answers(tenants, receiver, worker):
    a = tenants["hooka"]
    receiver.answers["/flaky"] = [500, 503, 200]
    flaky = hook(a, receiver, "/flaky", ["supplier.created"])
    api(a, "post", "/api/v1/suppliers/", {"name": "Retried"})
    receiver.wait(lambda: len(receiver.at("/flaky")) == 3)
    payloads = verified(flaky["secret"], receiver.at("/flaky"))
    assert [p["data"]["name"] for p in payloads] == ["Retried"] * 3
    assert len({request.headers["webhook-id"] for request in receiver.at("/flaky")}) == 1

    def logged():
        log = api(a, "get", f"/api/v1/webhooks/{flaky['id']}/deliveries/")[1]["results"]
        return log if log and log[0]["status"] == "succeeded" else None

    receiver.wait(lambda: logged() is not None)
    [delivery] = logged()
    assert delivery["attempts"] == 3 and [x["response_status"] for x in delivery["attempt_log"]] == [500, 503, 200]


def test_an_endpoint_that_keeps_failing_is_disabled(tenants, receiver, worker):
    a = tenants["hooka"]
    receiver.answers["/down"] = [500]
    down = hook(a, receiver, "/down", ["supplier.created"])
    api(a, "post", "/api/v1/suppliers/", {"name": "Never taken"})
    receiver.wait(lambda: api(a, "get", f"/api/v1/webhooks/{down['id']}/")[1]["is_active"] is False)
    assert len(receiver.at("/down")) == 3  # the first attempt and the two retries of the schedule
    [delivery] = api(a, "get", f"/api/v1/webhooks/{down['id']}/deliveries/")[1]["results"]
    assert delivery["status"] == "failed" and delivery["attempts"] == 3


def test_redelivery_and_replay(tenants, receiver, worker):
    a = tenants["hooka"]
    replayed = hook(a, receiver, "/replay", ["supplier.created"])
    since = api(a, "get", f"/api/v1/webhooks/{replayed['id']}/")[1]["created_at"]
    for name in ("R-1", "R-2"):
        api(a, "post", "/api/v1/suppliers/", {"name": name})
    receiver.wait(lambda: len(receiver.at("/replay")) == 2)
    first = verified(replayed["secret"], receiver.at("/replay"))[0]
    status, _ = api(a, "post", f"/api/v1/webhooks/{replayed['id']}/redeliver/", {"event": first["id"]})
    assert status == 202
    receiver.wait(lambda: len(receiver.at("/replay")) == 3)
    assert receiver.at("/replay")[2].headers["webhook-id"] == first["id"]
    status, body = api(a, "post", f"/api/v1/webhooks/{replayed['id']}/replay/", {"since": since})
    assert (status, body) == (202, {"deliveries": 2})
    receiver.wait(lambda: len(receiver.at("/replay")) == 5)
    names = [p["data"]["name"] for p in verified(replayed["secret"], receiver.at("/replay"))]
    assert names == ["R-1", "R-2", "R-1", "R-1", "R-2"]


def test_a_rolled_back_write_is_never_delivered(tenants, receiver, worker):
    a = tenants["hooka"]
    ghost = hook(a, receiver, "/ghost", ["supplier.created"])

    def rolled_back():
        with tenant_context(a["tenant"]), pytest.raises(RuntimeError), transaction.atomic():
            inventory.catalogue_create(model=Supplier, actor=a["owner"], name="Ghost")
            raise RuntimeError("failed after the write")

    in_threads(1, rolled_back)
    api(a, "post", "/api/v1/suppliers/", {"name": "Real"})
    receiver.wait(lambda: len(receiver.at("/ghost")) >= 1)
    # Deliveries go in order: had the ghost been recorded, it would have come first.
    assert [p["data"]["name"] for p in verified(ghost["secret"], receiver.at("/ghost"))] == ["Real"]


def test_the_cursor_never_skips_an_event_that_committed_late(tenants):
    """An event written first but committed last comes after what was read meanwhile,
    never before the cursor."""
    a = tenants["hooka"]
    start = cursor(a)
    written, release = threading.Event(), threading.Event()

    def slow_writer():
        with tenant_context(a["tenant"]), transaction.atomic():
            inventory.catalogue_create(model=Supplier, actor=a["owner"], name="Late")
            written.set()
            release.wait(30)
        connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    written.wait(30)
    api(a, "post", "/api/v1/suppliers/", {"name": "Early"})
    page = api(a, "get", "/api/v1/events/", {"cursor": start, "type": "supplier.created"})[1]
    release.set()
    thread.join()
    later = api(a, "get", "/api/v1/events/", {"cursor": page["next_cursor"], "type": "supplier.created"})[1]
    assert [e["data"]["name"] for e in page["results"]] == ["Early"]
    assert [e["data"]["name"] for e in later["results"]] == ["Late"]

    def seqs():
        with tenant_context(a["tenant"]):
            return list(
                Event.objects.filter(type="supplier.created").order_by("position").values_list("seq", flat=True)
            )

    # Written first (lower seq), positioned after the one that committed first.
    last_two = in_threads(1, seqs)[0][-2:]
    assert last_two[0] > last_two[1]
