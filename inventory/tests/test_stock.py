"""Stock movements: each kind, the rules, immutability, stock levels."""

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from inventory.models import StockMovement
from inventory.tests.helpers import level, move

pytestmark = pytest.mark.django_db


def test_each_kind_changes_stock_as_described(api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    p, main, spare = stocked["product"], stocked["main"], stocked["spare"]
    assert move(member, kind="receipt", product=p.pk, to_warehouse=main.pk, quantity="5").status_code == 201
    assert level(tenant_a, p, main) == Decimal("15")
    assert move(member, kind="issue", product=p.pk, from_warehouse=main.pk, quantity="4.5").status_code == 201
    assert level(tenant_a, p, main) == Decimal("10.5")
    assert (
        move(
            member, kind="transfer", product=p.pk, from_warehouse=main.pk, to_warehouse=spare.pk, quantity="3"
        ).status_code
        == 201
    )
    assert (level(tenant_a, p, main), level(tenant_a, p, spare)) == (Decimal("7.5"), Decimal("3"))
    counted = move(member, kind="adjustment", product=p.pk, to_warehouse=main.pk, quantity="6")
    assert counted.status_code == 201 and counted.json()["delta"] == "-1.500"
    assert level(tenant_a, p, main) == Decimal("6")
    assert move(member, kind="adjustment", product=p.pk, to_warehouse=spare.pk, quantity="0").status_code == 201
    assert level(tenant_a, p, spare) == Decimal("0")
    body = counted.json()
    assert body["created_by"]["email"] == "member@alpha.test" and body["kind"] == "adjustment"
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action__startswith="stock.", object_type="stock_movement").count() == 5


def test_issuing_more_than_on_hand_is_409_and_writes_nothing(api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    p, main, spare = stocked["product"], stocked["main"], stocked["spare"]
    with tenant_context(tenant_a):
        before = StockMovement.objects.count()
    response = move(member, kind="issue", product=p.pk, from_warehouse=main.pk, quantity="10.001")
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    response = move(member, kind="transfer", product=p.pk, from_warehouse=spare.pk, to_warehouse=main.pk, quantity="1")
    assert response.status_code == 409
    assert (level(tenant_a, p, main), level(tenant_a, p, spare)) == (Decimal("10"), Decimal("0"))
    with tenant_context(tenant_a):
        assert StockMovement.objects.count() == before
        assert not AuditEvent.objects.filter(action="stock.issue").exists()


@pytest.mark.parametrize(
    "body,field",
    [
        ({"kind": "receipt", "quantity": "1"}, "to_warehouse"),
        ({"kind": "receipt", "quantity": "1", "from_warehouse": "MAIN", "to_warehouse": "MAIN"}, "from_warehouse"),
        ({"kind": "issue", "quantity": "1", "to_warehouse": "MAIN"}, "from_warehouse"),
        ({"kind": "transfer", "quantity": "1", "from_warehouse": "MAIN"}, "to_warehouse"),
        ({"kind": "transfer", "quantity": "1", "from_warehouse": "MAIN", "to_warehouse": "MAIN"}, "to_warehouse"),
        ({"kind": "adjustment", "quantity": "1", "from_warehouse": "MAIN"}, "from_warehouse"),
        ({"kind": "receipt", "quantity": "0", "to_warehouse": "MAIN"}, "quantity"),
        ({"kind": "receipt", "quantity": "-3", "to_warehouse": "MAIN"}, "quantity"),
        ({"kind": "receipt", "quantity": "abc", "to_warehouse": "MAIN"}, "quantity"),
        ({"kind": "receipt", "to_warehouse": "MAIN"}, "quantity"),
        ({"kind": "teleport", "quantity": "1", "to_warehouse": "MAIN"}, "kind"),
        ({"kind": "receipt", "quantity": "1", "to_warehouse": "MAIN", "reference": "R" * 101}, "reference"),
        ({"kind": "receipt", "quantity": "1", "to_warehouse": "not-a-uuid"}, "to_warehouse"),
        ({"kind": "receipt", "quantity": "1", "to_warehouse": "MAIN", "product": None}, "product"),
    ],
)
def test_bad_movements_are_400_naming_the_field(api_client_for, tenant_a, stocked, body, field):
    ids = {"MAIN": str(stocked["main"].pk)}
    payload = {"product": str(stocked["product"].pk), **{k: ids.get(v, v) for k, v in body.items()}}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = api_client_for(tenant_a, role="member").post("/api/v1/stock-movements/", payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert level(tenant_a, stocked["product"], stocked["main"]) == Decimal("10")


def test_movements_are_immutable(api_client_for, tenant_a, stocked):
    owner = api_client_for(tenant_a, role="owner")
    created = move(owner, kind="receipt", product=stocked["product"].pk, to_warehouse=stocked["main"].pk, quantity="1")
    url = f"/api/v1/stock-movements/{created.json()['id']}/"
    assert owner.put(url, {"quantity": "100"}).status_code == 405
    assert owner.patch(url, {"quantity": "100"}).status_code == 405
    assert owner.delete(url).status_code == 405
    assert owner.get(url).json()["quantity"] == "1.000"


def test_viewer_reads_but_cannot_move(api_client_for, tenant_a, stocked):
    viewer = api_client_for(tenant_a, role="viewer")
    assert (
        move(
            viewer, kind="receipt", product=stocked["product"].pk, to_warehouse=stocked["main"].pk, quantity="1"
        ).status_code
        == 403
    )
    assert viewer.get("/api/v1/stock-movements/").status_code == 200


def test_stock_levels_are_read_only_and_filterable(api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    move(member, kind="receipt", product=stocked["product"].pk, to_warehouse=stocked["spare"].pk, quantity="2")
    rows = member.get(f"/api/v1/stock-levels/?warehouse={stocked['spare'].pk}").json()["results"]
    assert [(r["product_sku"], r["warehouse_code"], r["quantity"]) for r in rows] == [("BOLT-10", "SPARE", "2.000")]
    assert member.get(f"/api/v1/stock-levels/?product={stocked['product'].pk}").json()["count"] == 2
    assert member.post("/api/v1/stock-levels/", {"quantity": "5"}).status_code == 405
    assert member.patch(f"/api/v1/stock-levels/{rows[0]['id']}/", {"quantity": "5"}).status_code == 405


def test_movement_filters(api_client_for, tenant_a, stocked):
    member = api_client_for(tenant_a, role="member")
    p, main, spare = stocked["product"], stocked["main"], stocked["spare"]
    move(member, kind="receipt", product=p.pk, to_warehouse=main.pk, quantity="1", reference="PO-77")
    move(member, kind="transfer", product=p.pk, from_warehouse=main.pk, to_warehouse=spare.pk, quantity="1")
    assert member.get("/api/v1/stock-movements/?kind=transfer").json()["count"] == 1
    assert member.get(f"/api/v1/stock-movements/?warehouse={spare.pk}").json()["count"] == 1
    assert member.get(f"/api/v1/stock-movements/?warehouse={main.pk}").json()["count"] == 2
    assert member.get("/api/v1/stock-movements/?search=PO-77").json()["count"] == 1


def test_refusals_read_as_sentences_and_state_the_rule(api_client_for, tenant_a, stocked):
    """Issue movements, not "A issue"; a quantity that must be above zero is not described
    as "greater than or equal to 0"."""
    member = api_client_for(tenant_a, role="member")
    p, main = stocked["product"], stocked["main"]
    refusals = [
        (
            {"kind": "issue", "to_warehouse": main.pk, "quantity": "1"},
            "from_warehouse",
            "Issue movements need from_warehouse.",
        ),
        (
            {"kind": "adjustment", "from_warehouse": main.pk, "to_warehouse": main.pk, "quantity": "1"},
            "from_warehouse",
            "Adjustment movements take no from_warehouse.",
        ),
        (
            {"kind": "receipt", "to_warehouse": main.pk, "quantity": "0"},
            "quantity",
            "Quantity must be greater than zero.",
        ),
        (
            {"kind": "receipt", "to_warehouse": main.pk, "quantity": "-1"},
            "quantity",
            "Quantity must be greater than zero (zero only for an adjustment).",
        ),
    ]
    for body, field, message in refusals:
        response = move(member, product=p.pk, **body)
        assert response.status_code == 400 and response.json() == {field: [message]}, response.json()
    assert move(member, kind="adjustment", product=p.pk, to_warehouse=main.pk, quantity="0").status_code == 201
    line = {"product": str(p.pk), "quantity": "0", "unit_price": "1"}
    refused = member.post("/api/v1/purchase-requests/", {"supplier": str(stocked["supplier"].pk), "lines": [line]})
    assert refused.json() == {"lines": {"0": {"quantity": ["Quantity must be greater than zero."]}}}
