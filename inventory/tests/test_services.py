"""inventory's rules driven through its services, without HTTP: the purchase-request
state machine (every status x every step) and the stock rules with their boundaries."""

from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from inventory.exceptions import (
    InsufficientStock,
    InvalidMovement,
    InvalidPurchaseRequest,
    InvalidTransition,
    NotEditable,
    StillReferenced,
    StockLimitExceeded,
)
from inventory.models import QUANTITY_MAX, PurchaseRequest, PurchaseRequestStatus, StockLevel, StockMovement
from inventory.services import (
    PURCHASE_REQUEST_STEPS,
    purchase_request_approve,
    purchase_request_cancel,
    purchase_request_delete,
    purchase_request_receive,
    purchase_request_reject,
    purchase_request_submit,
    purchase_request_update,
    stock_movement_record,
)
from inventory.tests.factories import ProductFactory, PurchaseRequestFactory, StockLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

STATUSES = PurchaseRequestStatus.values
STEPS = ["submit", "approve", "reject", "receive", "cancel"]

# The state machine as users know it: (status, step) -> the status it leads to.
# Every pair not listed is refused.
ALLOWED = {
    ("draft", "submit"): "submitted",
    ("submitted", "approve"): "approved",
    ("submitted", "reject"): "rejected",
    ("approved", "receive"): "received",
    ("draft", "cancel"): "cancelled",
    ("submitted", "cancel"): "cancelled",
    ("approved", "cancel"): "cancelled",
}
REFUSED = [(status, step) for status in STATUSES for step in STEPS if (status, step) not in ALLOWED]

# Whose name and time each step keeps: `<who>_by_id`, `<who>_by_email`, `<who>_at`.
WHO = {"submit": "submitted", "approve": "decided", "reject": "decided", "receive": "received", "cancel": "cancelled"}
# The only fields a step may change besides `status` and `updated_at`.
STEP_FIELDS = {
    step: {f"{who}_by_id", f"{who}_by_email", f"{who}_at"}
    | ({"rejection_reason"} if step == "reject" else set())
    | ({"received_into_id"} if step == "receive" else set())
    for step, who in WHO.items()
}


def take(step: str, purchase_request: PurchaseRequest, *, actor, warehouse) -> PurchaseRequest:
    """Call the step's service with the input it needs."""
    if step == "submit":
        return purchase_request_submit(purchase_request=purchase_request, actor=actor)
    if step == "approve":
        return purchase_request_approve(purchase_request=purchase_request, actor=actor)
    if step == "reject":
        return purchase_request_reject(purchase_request=purchase_request, actor=actor, reason="  Over budget ")
    if step == "receive":
        return purchase_request_receive(purchase_request=purchase_request, actor=actor, warehouse=warehouse)
    return purchase_request_cancel(purchase_request=purchase_request, actor=actor)


def row(purchase_request: PurchaseRequest) -> dict:
    """Every stored field of the request, read back from the database."""
    fresh = PurchaseRequest.objects.get(pk=purchase_request.pk)
    return {field.attname: getattr(fresh, field.attname) for field in PurchaseRequest._meta.concrete_fields}


def trail(purchase_request: PurchaseRequest) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_id=str(purchase_request.pk)).order_by("at"))


def receipts(purchase_request: PurchaseRequest) -> list[tuple]:
    return list(
        StockMovement.objects.filter(purchase_request=purchase_request).values_list(
            "kind", "product_id", "quantity", "to_warehouse_id", "reference"
        )
    )


def level(product, warehouse) -> Decimal:
    found = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return found.quantity if found else Decimal("0")


@pytest.fixture
def creator(platform, tenant_a):
    return platform.user(tenant_a, "member")


@pytest.fixture
def actor(platform, tenant_a):
    """Who takes the step under test: someone else than the creator, so the who-fields
    show whose step it was."""
    return platform.user(tenant_a, "manager")


# --- the purchase-request state machine --------------------------------------------------


def test_services_state_machine_is_the_one_users_know():
    in_services = {(status, step): to for step, (starts, to) in PURCHASE_REQUEST_STEPS.items() for status in starts}
    assert in_services == ALLOWED


@pytest.mark.parametrize(("status", "step"), sorted(ALLOWED))
def test_purchase_request_step_moves_status_and_keeps_who_and_when(tenant_a, creator, actor, status, step):
    with tenant_context(tenant_a):
        purchase_request = PurchaseRequestFactory(status=status, actor=creator)
        line = purchase_request.lines.get()
        warehouse = WarehouseFactory()
        before, events_before = row(purchase_request), trail(purchase_request)
        started = timezone.now()

        returned = take(step, purchase_request, actor=actor, warehouse=warehouse)

        after = row(purchase_request)
        new_status = ALLOWED[(status, step)]
        assert returned.status == after["status"] == new_status
        assert {name for name in after if after[name] != before[name]} == {"status", "updated_at", *STEP_FIELDS[step]}
        who = WHO[step]
        assert (after[f"{who}_by_id"], after[f"{who}_by_email"]) == (actor.pk, "manager@alpha.test")
        assert started <= after[f"{who}_at"] <= timezone.now()
        if step == "reject":
            assert after["rejection_reason"] == "Over budget"
        if step == "receive":
            assert after["received_into_id"] == warehouse.pk
            number = purchase_request.number
            assert receipts(purchase_request) == [("receipt", line.product_id, line.quantity, warehouse.pk, number)]
            assert level(line.product, warehouse) == line.quantity
        else:
            assert receipts(purchase_request) == []
        new_events = trail(purchase_request)[len(events_before) :]
        assert [event.action for event in new_events] == [f"purchase_request.{new_status}"]
        assert new_events[0].actor_email == "manager@alpha.test"
        assert new_events[0].changes["status"] == [status, new_status]


@pytest.mark.parametrize(("status", "step"), REFUSED)
def test_purchase_request_step_from_wrong_status_is_refused_and_changes_nothing(tenant_a, creator, actor, status, step):
    with tenant_context(tenant_a):
        purchase_request = PurchaseRequestFactory(status=status, actor=creator)
        warehouse = WarehouseFactory()
        before, events_before = row(purchase_request), trail(purchase_request)
        movements_before = receipts(purchase_request)

        with pytest.raises(InvalidTransition, match=status):
            take(step, purchase_request, actor=actor, warehouse=warehouse)

        assert row(purchase_request) == before
        assert trail(purchase_request) == events_before
        assert receipts(purchase_request) == movements_before
        assert not StockMovement.objects.filter(to_warehouse=warehouse).exists()


def test_submit_without_lines_is_refused(tenant_a, creator):
    with tenant_context(tenant_a):
        empty = PurchaseRequestFactory(lines=[], actor=creator)
        before, events_before = row(empty), trail(empty)
        with pytest.raises(InvalidTransition, match="no lines"):
            purchase_request_submit(purchase_request=empty, actor=creator)
        assert row(empty) == before and row(empty)["status"] == "draft"
        assert trail(empty) == events_before


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_is_refused(tenant_a, creator, actor, reason):
    with tenant_context(tenant_a):
        submitted = PurchaseRequestFactory(status="submitted", actor=creator)
        before, events_before = row(submitted), trail(submitted)
        with pytest.raises(InvalidPurchaseRequest) as refused:
            purchase_request_reject(purchase_request=submitted, actor=actor, reason=reason)
        assert refused.value.field == "reason"
        assert row(submitted) == before and trail(submitted) == events_before


def test_receive_without_a_warehouse_is_refused_and_moves_no_stock(tenant_a, creator, actor):
    with tenant_context(tenant_a):
        approved = PurchaseRequestFactory(status="approved", actor=creator)
        before, events_before = row(approved), trail(approved)
        with pytest.raises(InvalidPurchaseRequest) as refused:
            purchase_request_receive(purchase_request=approved, actor=actor, warehouse=None)
        assert refused.value.field == "warehouse"
        assert row(approved) == before and trail(approved) == events_before
        assert receipts(approved) == []


def test_receive_records_one_receipt_per_line_into_the_warehouse(tenant_a, creator, actor):
    with tenant_context(tenant_a):
        bolt, nut = ProductFactory(), ProductFactory()
        warehouse = WarehouseFactory()
        StockLevelFactory(product=bolt, warehouse=warehouse, quantity=Decimal("1"))
        lines = [
            {"product": bolt, "quantity": Decimal("3"), "unit_price": Decimal("0.10")},
            {"product": nut, "quantity": Decimal("0.5"), "unit_price": Decimal("2")},
        ]
        approved = PurchaseRequestFactory(status="approved", lines=lines, actor=creator)
        purchase_request_receive(purchase_request=approved, actor=actor, warehouse=warehouse)
        assert (level(bolt, warehouse), level(nut, warehouse)) == (Decimal("4"), Decimal("0.5"))
        assert len(receipts(approved)) == 2


@pytest.mark.parametrize("status", STATUSES)
def test_only_drafts_are_editable(tenant_a, creator, status):
    with tenant_context(tenant_a):
        purchase_request = PurchaseRequestFactory(status=status, actor=creator)
        replacement = [{"product": ProductFactory(), "quantity": Decimal("7"), "unit_price": Decimal("2")}]
        if status == "draft":
            purchase_request_update(purchase_request=purchase_request, actor=creator, note="urgent", lines=replacement)
            assert row(purchase_request)["note"] == "urgent"
            assert [line.quantity for line in purchase_request.lines.all()] == [Decimal("7")]
            assert trail(purchase_request)[-1].action == "purchase_request.updated"
            return
        before, events_before = row(purchase_request), trail(purchase_request)
        lines_before = list(purchase_request.lines.values_list("product_id", "quantity"))
        with pytest.raises(NotEditable):
            purchase_request_update(purchase_request=purchase_request, actor=creator, note="urgent", lines=replacement)
        assert row(purchase_request) == before and trail(purchase_request) == events_before
        assert list(purchase_request.lines.values_list("product_id", "quantity")) == lines_before


@pytest.mark.parametrize("status", STATUSES)
def test_only_drafts_rejected_and_cancelled_requests_can_be_deleted(tenant_a, creator, status):
    with tenant_context(tenant_a):
        purchase_request = PurchaseRequestFactory(status=status, actor=creator)
        pk = purchase_request.pk
        if status in ("draft", "rejected", "cancelled"):
            purchase_request_delete(purchase_request=purchase_request, actor=creator)
            assert not PurchaseRequest.objects.filter(pk=pk).exists()
            assert AuditEvent.objects.filter(action="purchase_request.deleted", object_id=str(pk)).count() == 1
            return
        with pytest.raises(StillReferenced):
            purchase_request_delete(purchase_request=purchase_request, actor=creator)
        assert PurchaseRequest.objects.get(pk=pk).lines.count() == 1
        assert not AuditEvent.objects.filter(action="purchase_request.deleted", object_id=str(pk)).exists()


# --- stock ---------------------------------------------------------------------------------


@pytest.fixture
def stock(tenant_a, creator):
    """In tenant A's schema for the whole test: a product with 10 in MAIN and none in
    SPARE, and `record(**movement)` to move it as the member."""
    with tenant_context(tenant_a):
        product = ProductFactory(sku="BOLT")
        main, spare = WarehouseFactory(code="MAIN"), WarehouseFactory(code="SPARE")
        StockLevelFactory(product=product, warehouse=main, quantity=Decimal("10"))

        def record(**movement):
            return stock_movement_record(product=product, actor=creator, **movement)

        yield {"product": product, "main": main, "spare": spare, "record": record}


def state(stock) -> tuple:
    """What a movement could change: both levels, the movements, the audit trail."""
    levels = (level(stock["product"], stock["main"]), level(stock["product"], stock["spare"]))
    return levels, StockMovement.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("kind", "source", "target", "field"),
    [
        ("receipt", "main", "spare", "from_warehouse"),
        ("receipt", None, None, "to_warehouse"),
        ("issue", None, None, "from_warehouse"),
        ("issue", "main", "spare", "to_warehouse"),
        ("transfer", None, "spare", "from_warehouse"),
        ("transfer", "main", None, "to_warehouse"),
        ("transfer", "main", "main", "to_warehouse"),
        ("adjustment", "main", "spare", "from_warehouse"),
        ("adjustment", None, None, "to_warehouse"),
    ],
)
def test_movement_warehouses_must_fit_its_kind(stock, kind, source, target, field):
    before = state(stock)
    with pytest.raises(InvalidMovement) as refused:
        stock["record"](
            kind=kind,
            quantity=Decimal("1"),
            from_warehouse=stock.get(source),
            to_warehouse=stock.get(target),
        )
    assert refused.value.field == field
    assert state(stock) == before


# Warehouses that fit each kind: (from, to).
FITTING = {
    "receipt": (None, "spare"),
    "issue": ("main", None),
    "transfer": ("main", "spare"),
    "adjustment": (None, "spare"),
}


@pytest.mark.parametrize(
    ("kind", "quantity"),
    [
        (kind, quantity)
        for kind in FITTING
        for quantity in ("0", "-1", "-0.001")
        if (kind, quantity) != ("adjustment", "0")
    ],
)
def test_movement_quantity_must_be_above_zero(stock, kind, quantity):
    source, target = FITTING[kind]
    before = state(stock)
    with pytest.raises(InvalidMovement) as refused:
        stock["record"](
            kind=kind, quantity=Decimal(quantity), from_warehouse=stock.get(source), to_warehouse=stock.get(target)
        )
    assert refused.value.field == "quantity"
    assert state(stock) == before


@pytest.mark.parametrize(("counted", "delta"), [("4", "-6"), ("15", "5"), ("10", "0"), ("0", "-10")])
def test_adjustment_sets_the_counted_quantity_and_records_the_change(stock, counted, delta):
    movement = stock["record"](kind="adjustment", quantity=Decimal(counted), to_warehouse=stock["main"])
    assert level(stock["product"], stock["main"]) == Decimal(counted)
    assert StockMovement.objects.get(pk=movement.pk).delta == Decimal(delta)
    event = AuditEvent.objects.get(action="stock.adjustment", object_id=str(movement.pk))
    assert event.changes["delta"][0] is None and Decimal(event.changes["delta"][1]) == Decimal(delta)


def test_receipt_adds_to_the_level_creating_it_when_missing(stock):
    stock["record"](kind="receipt", quantity=Decimal("2.5"), to_warehouse=stock["spare"])
    stock["record"](kind="receipt", quantity=Decimal("1"), to_warehouse=stock["main"])
    assert state(stock)[0] == (Decimal("11"), Decimal("2.5"))


def test_transfer_moves_stock_between_both_levels(stock):
    movement = stock["record"](
        kind="transfer", quantity=Decimal("4"), from_warehouse=stock["main"], to_warehouse=stock["spare"]
    )
    assert state(stock)[0] == (Decimal("6"), Decimal("4"))
    assert (movement.from_warehouse, movement.to_warehouse, movement.delta) == (stock["main"], stock["spare"], None)


def test_issuing_exactly_what_is_there_leaves_zero(stock):
    stock["record"](kind="issue", quantity=Decimal("10"), from_warehouse=stock["main"])
    assert level(stock["product"], stock["main"]) == Decimal("0")


@pytest.mark.parametrize(("kind", "target"), [("issue", None), ("transfer", "spare")])
def test_taking_more_than_there_is_is_refused_and_writes_nothing(stock, kind, target):
    before = state(stock)
    with pytest.raises(InsufficientStock, match="Only 10"):
        stock["record"](
            kind=kind, quantity=Decimal("10.001"), from_warehouse=stock["main"], to_warehouse=stock.get(target)
        )
    assert state(stock) == before


def test_a_level_fills_up_to_quantity_max_and_not_beyond(stock):
    stock["record"](kind="receipt", quantity=QUANTITY_MAX, to_warehouse=stock["spare"])
    assert level(stock["product"], stock["spare"]) == QUANTITY_MAX
    before = state(stock)
    with pytest.raises(StockLimitExceeded):
        stock["record"](kind="receipt", quantity=Decimal("0.001"), to_warehouse=stock["spare"])
    with pytest.raises(StockLimitExceeded):
        stock["record"](
            kind="transfer", quantity=Decimal("0.001"), from_warehouse=stock["main"], to_warehouse=stock["spare"]
        )
    with pytest.raises(InvalidMovement) as refused:
        stock["record"](kind="receipt", quantity=QUANTITY_MAX + Decimal("0.001"), to_warehouse=stock["main"])
    assert refused.value.field == "quantity"
    assert state(stock) == before
