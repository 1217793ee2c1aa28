"""Concurrent stock movements on real PostgreSQL through the real HTTP stack.

A tenant of its own (gamma) is provisioned and committed for this module, because the
racing threads have their own connections and must see committed rows; it is dropped
afterwards. transactional_db is avoided: its flush would empty the shared tenants.
"""

from decimal import Decimal

import pytest
from django.db import connections
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.tokens import tokens_issue
from inventory.models import StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, StockLevelFactory, WarehouseFactory
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD, in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def gamma(platform, django_db_blocker):
    with django_db_blocker.unblock():
        result = tenant_provision(slug="gamma", name="Gamma", owner_email="owner@gamma.test", owner_password=PASSWORD)
        token = tokens_issue(user=result.owner, tenant=result.tenant)["access"]
        yield {"tenant": result.tenant, "token": token}
        connections.close_all()
        tenant_delete(tenant=result.tenant, drop_schema=True)


def client(gamma) -> APIClient:
    api = APIClient(HTTP_HOST="gamma.localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {gamma['token']}")
    return api


def committed(gamma, make):
    """Create rows in gamma from a thread (autocommit), visible to every connection."""

    def create():
        with tenant_context(gamma["tenant"]):
            return make()

    return in_threads(1, create)[0]


def test_concurrent_issues_lose_no_update_and_never_oversell(gamma):
    def setup():
        product, warehouse = ProductFactory(sku="RACE-1"), WarehouseFactory(code="RACE")
        StockLevelFactory(product=product, warehouse=warehouse, quantity=Decimal("100"))
        return product, warehouse

    product, warehouse = committed(gamma, setup)
    body = {"kind": "issue", "product": str(product.pk), "from_warehouse": str(warehouse.pk), "quantity": "3"}

    def issue_five_times():
        api = client(gamma)
        return [api.post("/api/v1/stock-movements/", body).status_code for _ in range(5)]

    codes = [code for batch in in_threads(8, issue_five_times) for code in batch]
    # 40 issues of 3 against 100: exactly 33 fit (99), 7 are refused, 1 is left.
    assert sorted(set(codes)) == [201, 409] and codes.count(201) == 33 and codes.count(409) == 7

    def final():
        level = StockLevel.objects.get(product=product, warehouse=warehouse)
        issued = sum(m.quantity for m in StockMovement.objects.filter(product=product, kind="issue"))
        return level.quantity, issued

    assert committed(gamma, final) == (Decimal("1"), Decimal("99"))


def test_opposite_transfers_do_not_deadlock_and_conserve_stock(gamma):
    def setup():
        product, east, west = ProductFactory(sku="RACE-2"), WarehouseFactory(code="EAST"), WarehouseFactory(code="WEST")
        StockLevelFactory(product=product, warehouse=east, quantity=Decimal("50"))
        StockLevelFactory(product=product, warehouse=west, quantity=Decimal("50"))
        return product, east, west

    product, east, west = committed(gamma, setup)
    routes = [(east, west), (west, east)] * 4

    def transfer_ten_times():
        source, target = routes.pop()
        api = client(gamma)
        body = {
            "kind": "transfer",
            "product": str(product.pk),
            "from_warehouse": str(source.pk),
            "to_warehouse": str(target.pk),
            "quantity": "1",
        }
        return [api.post("/api/v1/stock-movements/", body).status_code for _ in range(10)]

    codes = [code for batch in in_threads(8, transfer_ten_times) for code in batch]
    assert codes == [201] * 80  # a deadlock would surface as a 500 here

    def final():
        return sorted(level.quantity for level in StockLevel.objects.filter(product=product))

    assert committed(gamma, final) == [Decimal("50"), Decimal("50")]
