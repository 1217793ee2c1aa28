"""Tenant isolation for every route, with no test to write per endpoint.

The routes come from each host's own OpenAPI schema (every endpoint is documented, a
test in test_platform checks it), so an endpoint is covered the day it is added. Each
path parameter is filled with the ids of real objects of tenant A, and every method
is replayed on tenant B's host:

- with B's owner token (the strongest role there): A's objects must be out of reach,
  so the answer is 401, 403 or 404 (405 for a method the route does not serve);
- with A's own token: refused (401) before anything is looked up, wherever a token
  is needed (credential endpoints such as login take none, and ignore it).

No answer may contain A's marker string or any of A's ids. And so the harness cannot
pass by probing nothing: every route that reads one object must find one of A's ids
on A's own host; a new resource without an object here fails until one is added.
"""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import set_urlconf
from django_tenants.utils import tenant_context
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.tokens import tokens_issue
from audit.models import AuditEvent
from core.roles import Role
from documents import services as documents
from events import selectors as events_selectors
from events import services as events
from events.tests.helpers import webhooks_on
from inventory import services as inventory
from inventory.models import Product, Supplier, Warehouse

pytestmark = pytest.mark.django_db

MARKER = "A-ONLY-3c9e"
METHODS = ("get", "put", "patch", "delete", "post")
REFUSED = {401, 403, 404}
# Reached through a signed link, not a token; its signature is bound to the tenant, and
# documents/tests/test_isolation.py replays a real link on the other tenant's host.
SIGNED = {"/api/v1/documents/{id}/content/"}


def _documented_routes(urlconf: str) -> dict[str, dict[str, bool]]:
    """{path: {method: needs a token}} as the host's schema documents them."""
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    set_urlconf(None)
    return {
        path: {
            method: bool(op.get("security")) and {} not in op["security"]
            for method, op in ops.items()
            if method in METHODS
        }
        for path, ops in schema["paths"].items()
    }


@pytest.fixture
def tenant_a_objects(tenant_a, tenant_b, platform):
    """One object of every tenant-A resource, each carrying the marker where it can."""
    owner = platform.user(tenant_a, Role.OWNER)
    with tenant_context(tenant_a):
        warehouse = inventory.catalogue_create(model=Warehouse, actor=owner, code="AONLY", name=MARKER)
        supplier = inventory.catalogue_create(model=Supplier, actor=owner, name=MARKER, email="a@only.test")
        product = inventory.catalogue_create(model=Product, actor=owner, sku="A-ONLY-1", name=MARKER)
        movement = inventory.stock_movement_record(
            kind="receipt", product=product, to_warehouse=warehouse, quantity=Decimal("7"), actor=owner, note=MARKER
        )
        request = inventory.purchase_request_create(
            supplier=supplier,
            actor=owner,
            note=MARKER,
            lines=[{"product": product, "quantity": Decimal("2"), "unit_price": Decimal("1.00")}],
        )
        document = documents.document_upload(
            file=ContentFile(MARKER.encode(), name="a-only.txt"), title=MARKER, tags=[MARKER], actor=owner
        )
        level = product.stock_levels.get()
        event = AuditEvent.objects.order_by("-at").first()
    # Both tenants have webhooks, so B's owner reaches the views and is refused A's.
    webhooks_on(tenant_a)
    webhooks_on(tenant_b)
    with tenant_context(tenant_a):
        webhook = events.webhook_create(
            url="https://93.184.215.14/a-only", event_types=["product.created"], actor=owner
        )
        events.events_sequence()
        domain_event = events_selectors.event_list().last()
    membership = Membership.objects.filter(tenant=tenant_a).first()
    objects = (warehouse, supplier, product, movement, request, level, document, event, membership, webhook)
    ids = [str(obj.pk) for obj in objects] + [str(domain_event.id)]
    return ids


def _fill(path: str, object_id: str) -> str:
    return path.replace("{id}", object_id).replace("{pk}", object_id)


def _leaks(response, ids: list[str]) -> list[str]:
    body = response.content.decode(errors="replace")
    return [needle for needle in (MARKER, *ids) if needle in body]


@pytest.mark.parametrize("urlconf", ["config.urls_tenant", "config.urls_public"])
def test_no_route_reaches_tenant_a_from_tenant_b(urlconf, tenant_a, tenant_b, platform, tenant_a_objects):
    routes = _documented_routes(urlconf)
    host_b = tenant_b.primary_host if urlconf == "config.urls_tenant" else "localhost"
    as_b = APIClient(HTTP_HOST=host_b)
    owner_b = platform.user(tenant_b, Role.OWNER)
    as_b.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=owner_b, tenant=tenant_b)['access']}")
    with_a_token = APIClient(HTTP_HOST=host_b)
    owner_a = platform.user(tenant_a, Role.OWNER)
    with_a_token.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=owner_a, tenant=tenant_a)['access']}")

    problems, probed = [], 0
    for path, documented in sorted(routes.items()):
        with_param = "{" in path
        for object_id in tenant_a_objects if with_param else [""]:
            url = _fill(path, object_id)
            for method in METHODS:
                for who, client in (("B's owner", as_b), ("A's token", with_a_token)):
                    response = getattr(client, method)(url, {}, format="json")
                    probed += 1
                    allowed = REFUSED | ({405} if method not in documented else set())
                    needs_token = documented.get(method, False)
                    if who == "A's token" and needs_token and response.status_code != 401:
                        problems.append(f"{method.upper()} {url} with {who}: {response.status_code}")
                    if with_param and response.status_code not in allowed:
                        problems.append(f"{method.upper()} {url} with {who}: {response.status_code}")
                    leaked = _leaks(response, tenant_a_objects)
                    if leaked:
                        problems.append(f"{method.upper()} {url} with {who}: body shows {leaked}")
    assert probed > 0
    assert problems == []


def test_every_object_route_is_exercised_with_a_real_object(tenant_a, platform, tenant_a_objects):
    """On A's own host, each route that reads one object finds one of the fixture's ids."""
    as_a = APIClient(HTTP_HOST=tenant_a.primary_host)
    owner_a = platform.user(tenant_a, Role.OWNER)
    as_a.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=owner_a, tenant=tenant_a)['access']}")
    uncovered = []
    for path, methods in _documented_routes("config.urls_tenant").items():
        if "{" not in path or "get" not in methods or path in SIGNED:
            continue
        if not any(as_a.get(_fill(path, object_id)).status_code in (200, 302) for object_id in tenant_a_objects):
            uncovered.append(path)
    assert uncovered == [], f"add a tenant-A object for {uncovered} to tenant_a_objects"
