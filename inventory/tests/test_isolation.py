"""Tenant A's inventory is invisible and unreachable from tenant B, by id or by list."""

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from inventory.models import StockLevel
from inventory.tests.factories import ProductFactory, StockLevelFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_things(api_client_for, tenant_a):
    with tenant_context(tenant_a):
        product = ProductFactory(sku="A-ONLY-SKU", name="A-ONLY-marker")
        warehouse = WarehouseFactory(code="A-ONLY-WH")
        supplier = SupplierFactory(name="A-ONLY-supplier")
        StockLevelFactory(product=product, warehouse=warehouse, quantity=Decimal("7"))
    client = api_client_for(tenant_a, role="owner")
    movement = client.post(
        "/api/v1/stock-movements/",
        {"kind": "receipt", "product": str(product.pk), "to_warehouse": str(warehouse.pk), "quantity": "1"},
    ).json()
    request = client.post(
        "/api/v1/purchase-requests/",
        {"supplier": str(supplier.pk), "lines": [{"product": str(product.pk), "quantity": "1", "unit_price": "1"}]},
    ).json()
    with tenant_context(tenant_a):
        level = StockLevel.objects.get(product=product, warehouse=warehouse)
    return {
        "products": product.pk,
        "warehouses": warehouse.pk,
        "suppliers": supplier.pk,
        "stock-levels": level.pk,
        "stock-movements": movement["id"],
        "purchase-requests": request["id"],
    }


@pytest.mark.parametrize(
    "resource", ["products", "warehouses", "suppliers", "stock-levels", "stock-movements", "purchase-requests"]
)
def test_a_ids_are_404_on_b_for_read_update_delete(api_client_for, tenant_b, a_things, resource):
    b = api_client_for(tenant_b, role="owner")
    url = f"/api/v1/{resource}/{a_things[resource]}/"
    assert b.get(url).status_code == 404
    assert b.patch(url, {"name": "hijacked", "note": "hijacked"}).status_code in (404, 405)
    assert b.delete(url).status_code in (404, 405)
    listing = b.get(f"/api/v1/{resource}/?page_size=200").content.decode()
    assert str(a_things[resource]) not in listing and "A-ONLY" not in listing


@pytest.mark.parametrize("action", ["submit", "approve", "reject", "receive", "cancel"])
def test_a_purchase_request_actions_are_404_on_b(api_client_for, tenant_b, a_things, action):
    response = api_client_for(tenant_b, role="owner").post(
        f"/api/v1/purchase-requests/{a_things['purchase-requests']}/{action}/", {"reason": "x"}
    )
    assert response.status_code == 404


def test_a_ids_as_foreign_keys_in_b_writes_are_refused(api_client_for, tenant_b, a_things):
    b = api_client_for(tenant_b, role="owner")
    with tenant_context(tenant_b):
        b_product, b_warehouse, b_supplier = ProductFactory(), WarehouseFactory(), SupplierFactory()
    movement = b.post(
        "/api/v1/stock-movements/",
        {"kind": "receipt", "product": str(b_product.pk), "to_warehouse": str(a_things["warehouses"]), "quantity": "1"},
    )
    assert movement.status_code == 400 and "to_warehouse" in movement.json()
    movement = b.post(
        "/api/v1/stock-movements/",
        {"kind": "receipt", "product": str(a_things["products"]), "to_warehouse": str(b_warehouse.pk), "quantity": "1"},
    )
    assert movement.status_code == 400 and "product" in movement.json()
    request = b.post(
        "/api/v1/purchase-requests/",
        {"supplier": str(a_things["suppliers"]), "lines": []},
    )
    assert request.status_code == 400 and "supplier" in request.json()
    request = b.post(
        "/api/v1/purchase-requests/",
        {
            "supplier": str(b_supplier.pk),
            "lines": [{"product": str(a_things["products"]), "quantity": "1", "unit_price": "1"}],
        },
    )
    assert request.status_code == 400 and "product" in request.json()["lines"]["0"]
    # Filtering by A's id is filtering by an id B does not have: an empty list, the same
    # answer as for any random UUID (it used to be a 400 naming the filter, which the
    # schema did not document).
    unknown = b.get(f"/api/v1/stock-levels/?product={a_things['products']}")
    assert unknown.status_code == 200 and unknown.json()["count"] == 0


def test_same_sku_and_code_may_exist_in_both_tenants(api_client_for, tenant_b, a_things):
    b = api_client_for(tenant_b, role="manager")
    assert b.post("/api/v1/products/", {"sku": "A-ONLY-SKU", "name": "B's own"}).status_code == 201
    assert b.post("/api/v1/warehouses/", {"code": "A-ONLY-WH", "name": "B's own"}).status_code == 201
