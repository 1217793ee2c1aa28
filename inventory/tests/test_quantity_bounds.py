"""Quantities and prices stay within what the columns and the sums over them hold:
out-of-range input is a 400 naming the field, a movement that would overflow a stock
level is a 409, and totals always render."""

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from inventory.models import QUANTITY_MAX, PurchaseRequest, StockMovement
from inventory.tests.factories import ProductFactory, StockLevelFactory, WarehouseFactory
from inventory.tests.helpers import level, move

pytestmark = pytest.mark.django_db

MAX = "99999999999.999"
PRICE_MAX = "999999999999.99"


def movements(tenant) -> int:
    with tenant_context(tenant):
        return StockMovement.objects.count()


def test_quantity_max_is_what_the_column_holds():
    assert str(QUANTITY_MAX) == MAX


def test_second_receipt_beyond_the_level_limit_is_409_and_writes_nothing(api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    p, spare = stocked["product"], stocked["spare"]
    assert move(member, kind="receipt", product=p.pk, to_warehouse=spare.pk, quantity=MAX).status_code == 201
    before = movements(tenant_a)
    response = move(member, kind="receipt", product=p.pk, to_warehouse=spare.pk, quantity=MAX)
    assert response.status_code == 409 and response.json()["code"] == "stock_limit_exceeded"
    assert move(member, kind="receipt", product=p.pk, to_warehouse=spare.pk, quantity="0.001").status_code == 409
    assert level(tenant_a, p, spare) == Decimal(MAX) and movements(tenant_a) == before
    # Every list that shows the product still renders.
    assert member.get("/api/v1/products/").status_code == 200
    assert member.get("/api/v1/stock-levels/").status_code == 200


def test_transfer_into_a_full_level_is_409(api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    p, main, spare = stocked["product"], stocked["main"], stocked["spare"]
    assert move(member, kind="adjustment", product=p.pk, to_warehouse=spare.pk, quantity=MAX).status_code == 201
    response = move(member, kind="transfer", product=p.pk, from_warehouse=main.pk, to_warehouse=spare.pk, quantity="1")
    assert response.status_code == 409 and response.json()["code"] == "stock_limit_exceeded"
    assert (level(tenant_a, p, main), level(tenant_a, p, spare)) == (Decimal("10"), Decimal(MAX))


@pytest.mark.parametrize("quantity", ["100000000000", "99999999999.9999", "1e400", "NaN", "Infinity"])
def test_movement_quantity_beyond_the_column_is_400_naming_quantity(api_client_for, tenant_a, stocked, quantity):
    member = api_client_for(tenant_a, role="member")
    response = move(
        member, kind="receipt", product=stocked["product"].pk, to_warehouse=stocked["spare"].pk, quantity=quantity
    )
    assert response.status_code == 400 and "quantity" in response.json()


def test_on_hand_of_full_warehouses_fits_the_product_serializer(api_client_for, tenant_a):
    with tenant_context(tenant_a):
        product = ProductFactory(sku="FULL", reorder_level=Decimal(MAX))
        for _ in range(3):
            StockLevelFactory(product=product, warehouse=WarehouseFactory(), quantity=Decimal(MAX))
    viewer = api_client_for(tenant_a, role="viewer")
    listed = viewer.get("/api/v1/products/?sku=FULL")
    assert listed.status_code == 200
    assert listed.json()["results"][0]["on_hand"] == str(Decimal(MAX) * 3)
    assert viewer.get(f"/api/v1/products/{product.pk}/").json()["on_hand"] == "299999999999.997"
    assert viewer.get("/api/v1/products/?ordering=-on_hand").status_code == 200
    assert viewer.get("/api/v1/products/low-stock/").status_code == 200


def test_receiving_a_request_that_would_overflow_stock_is_409_and_stays_approved(api_client_for, tenant_a, stocked):
    manager = api_client_for(tenant_a, role="manager")
    p, main = stocked["product"], stocked["main"]  # MAIN holds 10 already
    created = manager.post(
        "/api/v1/purchase-requests/",
        {
            "supplier": str(stocked["supplier"].pk),
            "lines": [{"product": str(p.pk), "quantity": MAX, "unit_price": "1"}],
        },
    )
    assert created.status_code == 201, created.json()
    pr = created.json()["id"]
    for step in ("submit", "approve"):
        assert manager.post(f"/api/v1/purchase-requests/{pr}/{step}/").status_code == 200
    response = manager.post(f"/api/v1/purchase-requests/{pr}/receive/", {"warehouse": str(main.pk)})
    assert response.status_code == 409 and response.json()["code"] == "stock_limit_exceeded"
    with tenant_context(tenant_a):
        assert PurchaseRequest.objects.get(pk=pr).status == "approved"
    assert level(tenant_a, p, main) == Decimal("10")


def test_largest_purchase_request_lines_total_exactly(api_client_for, tenant_a, stocked):
    with tenant_context(tenant_a):
        products = [ProductFactory() for _ in range(3)]
    lines = [{"product": str(p.pk), "quantity": MAX, "unit_price": PRICE_MAX} for p in products]
    response = api_client_for(tenant_a, role="member").post(
        "/api/v1/purchase-requests/", {"supplier": str(stocked["supplier"].pk), "lines": lines}
    )
    assert response.status_code == 201, response.json()
    expected_line = (Decimal(MAX) * Decimal(PRICE_MAX)).quantize(Decimal("0.01"))
    body = response.json()
    assert [line["total"] for line in body["lines"]] == [str(expected_line)] * 3
    assert body["total"] == str((Decimal(MAX) * Decimal(PRICE_MAX) * 3).quantize(Decimal("0.01")))
    assert api_client_for(tenant_a, role="viewer").get("/api/v1/purchase-requests/").status_code == 200


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity": "100000000000", "unit_price": "1"}, "quantity"),
        ({"quantity": "1", "unit_price": "1000000000000"}, "unit_price"),
        ({"quantity": "1", "unit_price": "0.001"}, "unit_price"),
    ],
)
def test_purchase_request_line_beyond_the_columns_is_400_naming_the_field(
    api_client_for, tenant_a, stocked, line, field
):
    body = {"supplier": str(stocked["supplier"].pk), "lines": [{"product": str(stocked["product"].pk), **line}]}
    response = api_client_for(tenant_a, role="member").post("/api/v1/purchase-requests/", body)
    assert response.status_code == 400
    assert field in response.json()["lines"]["0"]  # errors by line index
