"""inventory's factories make rows that are valid and, for movements and purchase
requests, made by the services (stock levels and numbers included)."""

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from inventory.models import PurchaseRequest, PurchaseRequestStatus, StockLevel, StockMovement
from inventory.tests.factories import (
    ProductFactory,
    PurchaseRequestFactory,
    PurchaseRequestLineFactory,
    StockLevelFactory,
    StockMovementFactory,
    SupplierFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db


def level(product, warehouse) -> Decimal:
    return StockLevel.objects.get(product=product, warehouse=warehouse).quantity


@pytest.mark.parametrize("factory", [SupplierFactory, WarehouseFactory, ProductFactory, StockLevelFactory])
def test_catalogue_factories_save_valid_rows(tenant_a, factory):
    with tenant_context(tenant_a):
        first, second = factory(), factory()
        for made in (first, second):
            made.full_clean()
            assert type(made).objects.filter(pk=made.pk).exists()


def test_stock_movement_factory_records_a_receipt_that_moves_stock(tenant_a):
    with tenant_context(tenant_a):
        receipt = StockMovementFactory()
        receipt.full_clean()
        assert (receipt.kind, receipt.quantity, receipt.from_warehouse) == ("receipt", Decimal("5"), None)
        assert level(receipt.product, receipt.to_warehouse) == Decimal("5")
        assert AuditEvent.objects.filter(action="stock.receipt", object_id=str(receipt.pk)).count() == 1


def test_stock_movement_factory_makes_the_warehouses_each_kind_needs(tenant_a):
    with tenant_context(tenant_a):
        receipt = StockMovementFactory(quantity=Decimal("8"))
        transfer = StockMovementFactory(
            kind="transfer", product=receipt.product, from_warehouse=receipt.to_warehouse, quantity=Decimal("3")
        )
        issue = StockMovementFactory(
            kind="issue", product=receipt.product, from_warehouse=receipt.to_warehouse, quantity=Decimal("1")
        )
        assert transfer.to_warehouse not in (None, receipt.to_warehouse) and issue.to_warehouse is None
        assert level(receipt.product, receipt.to_warehouse) == Decimal("4")
        assert level(receipt.product, transfer.to_warehouse) == Decimal("3")


def test_movements_and_requests_cannot_be_built_without_the_services(tenant_a):
    with tenant_context(tenant_a):
        for factory in (StockMovementFactory, PurchaseRequestFactory):
            with pytest.raises(TypeError, match="create"):
                factory.build()
        assert not StockMovement.objects.exists()


def test_purchase_request_factory_makes_a_numbered_draft_with_one_line(platform, tenant_a):
    actor = platform.user(tenant_a, "member")
    with tenant_context(tenant_a):
        draft = PurchaseRequestFactory(actor=actor)
        draft.full_clean()
        stored = PurchaseRequest.objects.get(pk=draft.pk)
        assert stored.status == "draft" and stored.number.startswith("PR-")
        assert stored.created_by_email == "member@alpha.test"
        assert [(line.quantity, line.unit_price) for line in stored.lines.all()] == [(Decimal("2"), Decimal("1.50"))]
        assert AuditEvent.objects.filter(action="purchase_request.created", object_id=str(draft.pk)).exists()


@pytest.mark.parametrize("status", PurchaseRequestStatus.values)
def test_purchase_request_factory_walks_the_steps_to_the_status_asked_for(platform, tenant_a, status):
    actor = platform.user(tenant_a, "manager")
    with tenant_context(tenant_a):
        made = PurchaseRequestFactory(status=status, actor=actor)
        stored = PurchaseRequest.objects.get(pk=made.pk)
        assert stored.status == status
        receipts = StockMovement.objects.filter(purchase_request=stored)
        if status == "received":
            assert stored.received_into is not None and receipts.count() == 1
        else:
            assert not receipts.exists()


def test_purchase_request_line_factory_adds_a_line_to_a_draft(tenant_a):
    with tenant_context(tenant_a):
        line = PurchaseRequestLineFactory(quantity=Decimal("4"))
        line.full_clean()
        assert line.request.status == "draft"
        assert list(line.request.lines.values_list("quantity", flat=True)) == [Decimal("4")]
