"""Products, suppliers, warehouses: CRUD, filters, conflicts, bad input."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from inventory.models import Product, Warehouse
from inventory.tests.factories import ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_product_crud_and_audit(manager, api_client_for, tenant_a):
    created = manager.post("/api/v1/products/", {"sku": "NUT-1", "name": "Nut", "unit": "pcs", "reorder_level": "2.5"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["on_hand"] == "0.000" and body["reorder_level"] == "2.500"
    product_id = body["id"]
    assert manager.patch(f"/api/v1/products/{product_id}/", {"name": "Hex nut"}).json()["name"] == "Hex nut"
    assert manager.get(f"/api/v1/products/{product_id}/").json()["sku"] == "NUT-1"
    assert manager.delete(f"/api/v1/products/{product_id}/").status_code == 403  # delete needs admin
    assert api_client_for(tenant_a, role="admin").delete(f"/api/v1/products/{product_id}/").status_code == 204
    with tenant_context(tenant_a):
        actions = list(AuditEvent.objects.filter(object_id=product_id).order_by("at").values_list("action", flat=True))
        updated = AuditEvent.objects.get(object_id=product_id, action="product.updated")
    assert actions == ["product.created", "product.updated", "product.deleted"]
    assert updated.changes == {"name": ["Nut", "Hex nut"]}


def test_list_filters_search_ordering_pagination(manager, tenant_a):
    with tenant_context(tenant_a):
        ProductFactory(sku="A-1", name="Anchor", is_active=True)
        ProductFactory(sku="B-1", name="Bracket", is_active=False)
        ProductFactory(sku="C-1", name="Clamp anchor", unit="kg")
    assert [p["sku"] for p in manager.get("/api/v1/products/?search=anchor").json()["results"]] == ["A-1", "C-1"]
    assert [p["sku"] for p in manager.get("/api/v1/products/?is_active=false").json()["results"]] == ["B-1"]
    assert [p["sku"] for p in manager.get("/api/v1/products/?unit=kg").json()["results"]] == ["C-1"]
    assert [p["sku"] for p in manager.get("/api/v1/products/?ordering=-sku").json()["results"]][:3] == [
        "C-1",
        "B-1",
        "A-1",
    ]
    page = manager.get("/api/v1/products/?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"].endswith("page=2&page_size=2")
    assert len(manager.get("/api/v1/products/?page_size=1000").json()["results"]) == 3  # capped at 200, not an error


def test_duplicate_sku_and_warehouse_code_are_409(manager, tenant_a):
    with tenant_context(tenant_a):
        ProductFactory(sku="DUP-1")
        WarehouseFactory(code="DUPWH")
    response = manager.post("/api/v1/products/", {"sku": "DUP-1", "name": "Again"})
    assert response.status_code == 409 and response.json()["code"] == "duplicate"
    assert manager.post("/api/v1/warehouses/", {"code": "DUPWH", "name": "Again"}).status_code == 409
    with tenant_context(tenant_a):
        assert Product.objects.filter(sku="DUP-1").count() == 1


def test_warehouse_codes_and_skus_are_unique_whatever_their_case(manager, tenant_a, tenant_b, api_client_for):
    assert manager.post("/api/v1/warehouses/", {"code": "NORTH", "name": "North"}).status_code == 201
    again = manager.post("/api/v1/warehouses/", {"code": "north", "name": "Also north"})
    assert again.status_code == 409 and again.json()["code"] == "duplicate"
    assert again.json()["detail"] == (
        'Warehouse code "north" is already in use (as "NORTH": codes are compared ignoring case).'
    )
    south = manager.post("/api/v1/warehouses/", {"code": "SOUTH", "name": "South"}).json()
    renamed = manager.patch(f"/api/v1/warehouses/{south['id']}/", {"code": "North"})
    assert renamed.status_code == 409 and renamed.json()["code"] == "duplicate"
    assert manager.post("/api/v1/products/", {"sku": "BOLT-10", "name": "Bolt"}).status_code == 201
    assert manager.post("/api/v1/products/", {"sku": "bolt-10", "name": "Bolt"}).status_code == 409
    # Changing only the case of a row's own code is allowed.
    assert manager.patch(f"/api/v1/warehouses/{south['id']}/", {"code": "south"}).status_code == 200
    with tenant_context(tenant_a):
        assert sorted(w.code for w in Warehouse.objects.all()) == ["NORTH", "south"]
    # Per tenant: the other tenant's namespace is its own.
    other = api_client_for(tenant_b, role="manager")
    assert other.post("/api/v1/warehouses/", {"code": "north", "name": "B's north"}).status_code == 201


def test_migration_renames_case_duplicates_it_finds(tenant_a):
    """Rows that clash but for case (possible before the unique indexes) are kept: the
    oldest keeps its code, later ones get -2, -3, never another existing code."""
    migration = importlib.import_module("inventory.migrations.0004_case_insensitive_codes_and_number_counter")
    with tenant_context(tenant_a):
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX warehouse_code_unique_ci")  # rolled back with the test
        first = WarehouseFactory(code="NORTH")
        second, third = WarehouseFactory(code="north"), WarehouseFactory(code="North")
        taken = WarehouseFactory(code="north-2")
        migration._rename_case_duplicates(django_apps, connection.schema_editor())
        codes = dict(Warehouse.objects.values_list("pk", "code"))
    assert codes[first.pk] == "NORTH" and codes[taken.pk] == "north-2"
    assert {codes[second.pk].lower(), codes[third.pk].lower()} == {"north-3", "north-4"}
    assert codes[second.pk][:5] == "north" and codes[third.pk][:5] == "North"  # the case as it was


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"name": "No SKU"}, "sku"),
        ({"sku": "X" * 65, "name": "Long"}, "sku"),
        ({"sku": "NEG", "name": "Neg", "reorder_level": "-1"}, "reorder_level"),
        ({"sku": "NAN", "name": "Nan", "reorder_level": "lots"}, "reorder_level"),
        ({"sku": "BIG", "name": "x" * 201}, "name"),
    ],
)
def test_bad_product_input_names_the_field(manager, tenant_a, payload, field):
    response = manager.post("/api/v1/products/", payload)
    assert response.status_code == 400 and field in response.json()
    with tenant_context(tenant_a):
        assert not Product.objects.filter(sku=payload.get("sku", "")).exists()


def test_malformed_json_is_400(manager):
    response = manager.post("/api/v1/products/", data="{oops", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_deleting_referenced_things_is_409_with_the_reason(api_client_for, tenant_a, stocked):
    admin = api_client_for(tenant_a, role="admin")
    product, main = stocked["product"], stocked["main"]
    response = admin.delete(f"/api/v1/products/{product.pk}/")
    assert response.status_code == 409 and "still holds stock" in response.json()["detail"]
    assert admin.delete(f"/api/v1/warehouses/{main.pk}/").status_code == 409
    # Stock issued away: no stock left, but the movement history still references it.
    admin.post(
        "/api/v1/stock-movements/",
        {"kind": "issue", "product": str(product.pk), "from_warehouse": str(main.pk), "quantity": "10"},
    )
    response = admin.delete(f"/api/v1/products/{product.pk}/")
    assert response.status_code == 409 and "stock movements" in response.json()["detail"]
    # A supplier on a purchase request cannot go either; an unused warehouse can.
    admin.post(
        "/api/v1/purchase-requests/",
        {
            "supplier": str(stocked["supplier"].pk),
            "lines": [{"product": str(product.pk), "quantity": "1", "unit_price": "1"}],
        },
    )
    assert admin.delete(f"/api/v1/suppliers/{stocked['supplier'].pk}/").status_code == 409
    assert admin.delete(f"/api/v1/warehouses/{stocked['spare'].pk}/").status_code == 204


def test_product_on_open_request_cannot_be_deleted(api_client_for, tenant_a, stocked):
    admin = api_client_for(tenant_a, role="admin")
    with tenant_context(tenant_a):
        fresh = ProductFactory(sku="FRESH")
    admin.post(
        "/api/v1/purchase-requests/",
        {
            "supplier": str(stocked["supplier"].pk),
            "lines": [{"product": str(fresh.pk), "quantity": "1", "unit_price": "1"}],
        },
    )
    response = admin.delete(f"/api/v1/products/{fresh.pk}/")
    assert response.status_code == 409 and "open purchase requests" in response.json()["detail"]


def test_supplier_and_warehouse_crud(manager):
    supplier = manager.post("/api/v1/suppliers/", {"name": "Acme Parts", "email": "parts@acme.test", "phone": "+1 555"})
    assert supplier.status_code == 201
    assert manager.post("/api/v1/suppliers/", {"name": "Bad", "email": "not-mail"}).status_code == 400
    warehouse = manager.post("/api/v1/warehouses/", {"code": "EAST", "name": "East", "address": "1 Road"})
    assert warehouse.status_code == 201
    assert manager.get("/api/v1/warehouses/?search=east").json()["count"] == 1
    assert (
        manager.put(
            f"/api/v1/warehouses/{warehouse.json()['id']}/", {"code": "EAST2", "name": "East 2", "address": ""}
        ).json()["code"]
        == "EAST2"
    )


def test_on_hand_sums_all_warehouses_and_low_stock(manager, tenant_a, stocked):
    product = stocked["product"]
    manager.post(
        "/api/v1/stock-movements/",
        {"kind": "receipt", "product": str(product.pk), "to_warehouse": str(stocked["spare"].pk), "quantity": "2.5"},
    )
    assert manager.get(f"/api/v1/products/{product.pk}/").json()["on_hand"] == "12.500"
    with tenant_context(tenant_a):
        ProductFactory(sku="EMPTY", reorder_level=Decimal("0"))  # 0 <= 0: low
        ProductFactory(sku="GONE", reorder_level=Decimal("3"), is_active=False)  # inactive: not listed
    low = [p["sku"] for p in manager.get("/api/v1/products/low-stock/").json()["results"]]
    assert low == ["EMPTY"]
    manager.post(
        "/api/v1/stock-movements/",
        {"kind": "issue", "product": str(product.pk), "from_warehouse": str(stocked["main"].pk), "quantity": "8"},
    )
    assert [p["sku"] for p in manager.get("/api/v1/products/low-stock/").json()["results"]] == ["BOLT-10", "EMPTY"]
    assert manager.get("/api/v1/tenant/").json()["usage"]["products"] == 3
