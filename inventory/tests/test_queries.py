"""List endpoints do a constant number of queries, whatever the page size."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from inventory.tests.factories import ProductFactory, StockLevelFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/products/",
    "/api/v1/products/low-stock/",
    "/api/v1/suppliers/",
    "/api/v1/warehouses/",
    "/api/v1/stock-levels/",
    "/api/v1/stock-movements/",
    "/api/v1/purchase-requests/",
]


@pytest.fixture
def plenty(api_client_for, tenant_a):
    with tenant_context(tenant_a):
        warehouses = [WarehouseFactory() for _ in range(3)]
        products = [ProductFactory(reorder_level=Decimal("1000")) for _ in range(12)]
        supplier = SupplierFactory()
        for product in products:
            for warehouse in warehouses:
                StockLevelFactory(product=product, warehouse=warehouse, quantity=Decimal("5"))
    client = api_client_for(tenant_a, role="owner")
    for product in products:
        client.post(
            "/api/v1/stock-movements/",
            {"kind": "receipt", "product": str(product.pk), "to_warehouse": str(warehouses[0].pk), "quantity": "1"},
        )
    for index in range(12):
        lines = [
            {"product": str(p.pk), "quantity": "1", "unit_price": "2.5"} for p in products[index % 4 : index % 4 + 3]
        ]
        client.post("/api/v1/purchase-requests/", {"supplier": str(supplier.pk), "lines": lines})
    return client


def queries_for(client, url: str) -> int:
    """Statements run, not counting the SET search_path django-tenants issues per cursor."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in captured.captured_queries if not q["sql"].startswith("SET search_path")])


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_grow_with_page_size(plenty, path):
    small = queries_for(plenty, f"{path}?page_size=2")
    large = queries_for(plenty, f"{path}?page_size=50")
    assert large == small
    assert large <= 4  # the user, the count, the page, and for requests their lines
