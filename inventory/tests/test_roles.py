"""The role table on every inventory endpoint, one request per role."""

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from inventory.tests.factories import ProductFactory, StockLevelFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

ROLES = ["viewer", "member", "manager", "admin", "owner"]


@pytest.fixture
def objects(tenant_a):
    with tenant_context(tenant_a):
        product = ProductFactory()
        warehouse = WarehouseFactory()
        StockLevelFactory(product=product, warehouse=warehouse, quantity=Decimal("100"))
        return {
            "product": str(product.pk),
            "warehouse": str(warehouse.pk),
            "supplier": str(SupplierFactory().pk),
            "spare_product": str(ProductFactory().pk),
            "spare_warehouse": str(WarehouseFactory().pk),
            "spare_supplier": str(SupplierFactory().pk),
        }


# (method, path, body, weakest role allowed); {name} is filled from `objects`.
RULES = [
    ("get", "/api/v1/products/", None, "viewer"),
    ("get", "/api/v1/products/low-stock/", None, "viewer"),
    ("get", "/api/v1/suppliers/", None, "viewer"),
    ("get", "/api/v1/warehouses/", None, "viewer"),
    ("get", "/api/v1/stock-levels/", None, "viewer"),
    ("get", "/api/v1/stock-movements/", None, "viewer"),
    ("get", "/api/v1/purchase-requests/", None, "viewer"),
    (
        "post",
        "/api/v1/stock-movements/",
        {"kind": "issue", "product": "{product}", "from_warehouse": "{warehouse}", "quantity": "1"},
        "member",
    ),
    (
        "post",
        "/api/v1/purchase-requests/",
        {"supplier": "{supplier}", "lines": [{"product": "{product}", "quantity": "1", "unit_price": "1"}]},
        "member",
    ),
    ("post", "/api/v1/products/", {"sku": "ROLE-NEW", "name": "New"}, "manager"),
    ("patch", "/api/v1/products/{product}/", {"name": "Renamed"}, "manager"),
    ("post", "/api/v1/suppliers/", {"name": "New supplier"}, "manager"),
    ("patch", "/api/v1/suppliers/{supplier}/", {"phone": "123"}, "manager"),
    ("post", "/api/v1/warehouses/", {"code": "ROLE-WH", "name": "New"}, "manager"),
    ("patch", "/api/v1/warehouses/{warehouse}/", {"name": "Renamed"}, "manager"),
    ("delete", "/api/v1/products/{spare_product}/", None, "admin"),
    ("delete", "/api/v1/suppliers/{spare_supplier}/", None, "admin"),
    ("delete", "/api/v1/warehouses/{spare_warehouse}/", None, "admin"),
]


def fill(value, objects):
    if isinstance(value, str):
        return value.format(**objects)
    if isinstance(value, dict):
        return {key: fill(item, objects) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, objects) for item in value]
    return value


@pytest.mark.parametrize("method,path,body,weakest", RULES, ids=[f"{m} {p}" for m, p, _, _ in RULES])
@pytest.mark.parametrize("role", ROLES)
def test_role_table(api_client_for, tenant_a, objects, role, method, path, body, weakest):
    response = getattr(api_client_for(tenant_a, role=role), method)(fill(path, objects), fill(body, objects))
    if ROLES.index(role) >= ROLES.index(weakest):
        assert response.status_code in (200, 201, 204), response.content
    else:
        assert response.status_code == 403, response.content


@pytest.mark.parametrize("role", ROLES)
def test_request_decisions_need_manager(api_client_for, tenant_a, objects, role):
    owner = api_client_for(tenant_a, role="owner")
    body = {
        "supplier": objects["supplier"],
        "lines": [{"product": objects["product"], "quantity": "1", "unit_price": "1"}],
    }
    pr = owner.post("/api/v1/purchase-requests/", body).json()
    owner.post(f"/api/v1/purchase-requests/{pr['id']}/submit/")
    client = api_client_for(tenant_a, role=role)
    response = client.post(f"/api/v1/purchase-requests/{pr['id']}/approve/")
    assert response.status_code == (200 if ROLES.index(role) >= ROLES.index("manager") else 403)
