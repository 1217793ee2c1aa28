"""Every write to inventory. One transaction each, with its audit record inside.

Stock changes lock the StockLevel rows they touch, always in primary-key order, so two
transfers in opposite directions queue instead of deadlocking, and concurrent issues
cannot oversell: stock never goes negative (InsufficientStock, nothing written).
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction
from django.db.models import Model, ProtectedError
from django.utils import timezone

from audit.services import audit_record, diff, snapshot

from .exceptions import (
    DuplicateValue,
    InsufficientStock,
    InvalidMovement,
    InvalidTransition,
    NotEditable,
    StillReferenced,
)
from .models import (
    MovementKind,
    Product,
    PurchaseRequest,
    PurchaseRequestLine,
    PurchaseRequestStatus,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)
from .selectors import products_in_open_requests


def _by(actor) -> dict:
    return {"id": getattr(actor, "pk", None), "email": getattr(actor, "email", "")}


# --- catalogue: products, suppliers, warehouses --------------------------------------

_UNIQUE_FIELD: dict[type[Model], str] = {Product: "sku", Warehouse: "code"}
M = TypeVar("M", bound=Model)


def _save_unique(instance: Model) -> None:
    field = _UNIQUE_FIELD.get(type(instance))
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        if (
            field
            and type(instance)
            ._default_manager.filter(**{field: getattr(instance, field)})
            .exclude(pk=instance.pk)
            .exists()
        ):
            raise DuplicateValue(
                f'A {instance._meta.verbose_name} with {field} "{getattr(instance, field)}" already exists.',
                field=field,
            ) from exc
        raise


@transaction.atomic
def catalogue_create(*, model: type[M], actor, **fields) -> M:
    """Create a product, supplier or warehouse."""
    instance = model(**fields)
    _save_unique(instance)
    audit_record(
        action=f"{model._meta.model_name}.created",
        target=instance,
        actor=actor,
        changes=diff({}, snapshot(instance, list(fields))),
    )
    return instance


@transaction.atomic
def catalogue_update(*, instance: M, actor, **fields) -> M:
    instance = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    before = snapshot(instance, list(fields))
    for name, value in fields.items():
        setattr(instance, name, value)
    _save_unique(instance)
    changes = diff(before, snapshot(instance, list(fields)))
    if changes:
        audit_record(action=f"{instance._meta.model_name}.updated", target=instance, actor=actor, changes=changes)
    return instance


@transaction.atomic
def catalogue_delete(*, instance: Model, actor) -> None:
    """Delete unless still referenced: stock, movements or purchase requests (409)."""
    if isinstance(instance, Product) and products_in_open_requests([instance.pk]).exists():
        raise StillReferenced(f"{instance} is on open purchase requests; cancel or receive them first.")
    if isinstance(instance, Product | Warehouse) and instance.stock_levels.exclude(quantity=0).exists():
        raise StillReferenced(f"{instance} still holds stock; issue or transfer it first.")
    before = snapshot(instance)
    try:
        with transaction.atomic():
            if isinstance(instance, Product | Warehouse):
                instance.stock_levels.all().delete()  # empty levels are bookkeeping, not references
            instance.delete()
    except ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise StillReferenced(f"{instance} is still referenced by {', '.join(kinds)}; deactivate it instead.") from exc
    audit_record(
        action=f"{instance._meta.model_name}.deleted",
        object_type=instance._meta.label_lower,
        object_id=before["id"],
        actor=actor,
        changes={name: [value, None] for name, value in before.items()},
    )


# --- stock ---------------------------------------------------------------------------


def _locked_levels(product: Product, warehouses: Iterable[Warehouse]) -> dict:
    """The stock levels of `product` in `warehouses`, created if missing, locked in
    primary-key order (the fixed order that rules out deadlocks)."""
    warehouse_ids = sorted({w.pk for w in warehouses})
    StockLevel.objects.bulk_create(
        [StockLevel(product=product, warehouse_id=wid) for wid in warehouse_ids], ignore_conflicts=True
    )
    levels = (
        StockLevel.objects.select_for_update().filter(product=product, warehouse_id__in=warehouse_ids).order_by("pk")
    )
    return {level.warehouse_id: level for level in levels}


def _check_kind(kind, from_warehouse, to_warehouse, quantity) -> None:
    needs = {
        MovementKind.RECEIPT: (False, True),
        MovementKind.ISSUE: (True, False),
        MovementKind.TRANSFER: (True, True),
        MovementKind.ADJUSTMENT: (False, True),
    }[kind]
    for field, needed, given in (
        ("from_warehouse", needs[0], from_warehouse),
        ("to_warehouse", needs[1], to_warehouse),
    ):
        if needed and given is None:
            raise InvalidMovement(f"A {kind} needs {field}.", field=field)
        if not needed and given is not None:
            raise InvalidMovement(f"A {kind} takes no {field}.", field=field)
    if kind == MovementKind.TRANSFER and from_warehouse.pk == to_warehouse.pk:
        raise InvalidMovement("A transfer needs two different warehouses.", field="to_warehouse")
    if quantity < 0 or (quantity == 0 and kind != MovementKind.ADJUSTMENT):
        raise InvalidMovement("Quantity must be greater than zero.", field="quantity")


@transaction.atomic
def stock_movement_record(
    *,
    kind: str,
    product: Product,
    quantity: Decimal,
    actor,
    from_warehouse: Warehouse | None = None,
    to_warehouse: Warehouse | None = None,
    reference: str = "",
    note: str = "",
    purchase_request: PurchaseRequest | None = None,
) -> StockMovement:
    """Record a movement and change the stock it moves, together or not at all."""
    _check_kind(kind, from_warehouse, to_warehouse, quantity)
    levels = _locked_levels(product, [w for w in (from_warehouse, to_warehouse) if w is not None])
    delta = None
    if from_warehouse is not None:
        source = levels[from_warehouse.pk]
        if source.quantity < quantity:
            raise InsufficientStock(
                sku=product.sku, warehouse=from_warehouse.code, available=source.quantity, requested=quantity
            )
        source.quantity -= quantity
    if to_warehouse is not None:
        target = levels[to_warehouse.pk]
        if kind == MovementKind.ADJUSTMENT:
            delta = quantity - target.quantity
            target.quantity = quantity
        else:
            target.quantity += quantity
    for level in levels.values():
        level.save(update_fields=["quantity", "updated_at"])
    who = _by(actor)
    movement = StockMovement.objects.create(
        kind=kind,
        product=product,
        from_warehouse=from_warehouse,
        to_warehouse=to_warehouse,
        quantity=quantity,
        delta=delta,
        reference=reference,
        note=note,
        purchase_request=purchase_request,
        created_by_id=who["id"],
        created_by_email=who["email"],
    )
    audit_record(
        action=f"stock.{kind}",
        target=movement,
        actor=actor,
        changes={
            "product": [None, product.sku],
            "quantity": [None, quantity],
            **({"from_warehouse": [from_warehouse.code, None]} if from_warehouse else {}),
            **({"to_warehouse": [None, to_warehouse.code]} if to_warehouse else {}),
            **({"delta": [None, delta]} if delta is not None else {}),
        },
    )
    return movement


# --- purchase requests -----------------------------------------------------------------


def _next_number() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('inventory_purchase_request_number_seq')")
        return f"PR-{cursor.fetchone()[0]:06d}"


def _replace_lines(request: PurchaseRequest, lines: list[dict]) -> None:
    products = [line["product"].pk for line in lines]
    if len(products) != len(set(products)):
        raise InvalidMovement("Each product may appear on one line only.", field="lines")
    request.lines.all().delete()
    PurchaseRequestLine.objects.bulk_create(
        [
            PurchaseRequestLine(
                request=request, product=line["product"], quantity=line["quantity"], unit_price=line["unit_price"]
            )
            for line in lines
        ]
    )


def _lines_snapshot(request: PurchaseRequest) -> list:
    return [
        [line.product.sku, str(line.quantity), str(line.unit_price)]
        for line in request.lines.select_related("product").order_by("product__sku")
    ]


@transaction.atomic
def purchase_request_create(*, supplier: Supplier, lines: list[dict], actor, note: str = "") -> PurchaseRequest:
    who = _by(actor)
    request = PurchaseRequest.objects.create(
        number=_next_number(), supplier=supplier, note=note, created_by_id=who["id"], created_by_email=who["email"]
    )
    _replace_lines(request, lines)
    audit_record(
        action="purchase_request.created",
        target=request,
        actor=actor,
        changes={
            "number": [None, request.number],
            "supplier": [None, supplier.name],
            "lines": [None, _lines_snapshot(request)],
        },
    )
    return request


def _lock(request: PurchaseRequest) -> PurchaseRequest:
    return PurchaseRequest.objects.select_for_update(of=("self",)).select_related("supplier").get(pk=request.pk)


@transaction.atomic
def purchase_request_update(
    *, request: PurchaseRequest, actor, supplier: Supplier | None = None, note: str | None = None, lines=None
) -> PurchaseRequest:
    """Only drafts are editable; `lines`, when given, replace all lines."""
    request = _lock(request)
    if request.status != PurchaseRequestStatus.DRAFT:
        raise NotEditable(f"{request.number} is {request.status}; only drafts can be edited.")
    changes: dict[str, Any] = {}
    if supplier is not None and supplier.pk != request.supplier_id:
        changes["supplier"] = [request.supplier.name, supplier.name]
        request.supplier = supplier
    if note is not None and note != request.note:
        changes["note"] = [request.note, note]
        request.note = note
    if lines is not None:
        before = _lines_snapshot(request)
        _replace_lines(request, lines)
        after = _lines_snapshot(request)
        if before != after:
            changes["lines"] = [before, after]
    if changes:
        request.save()
        audit_record(action="purchase_request.updated", target=request, actor=actor, changes=changes)
    return request


# Which statuses each transition may start from, and where it goes.
TRANSITIONS = {
    "submit": ({PurchaseRequestStatus.DRAFT}, PurchaseRequestStatus.SUBMITTED),
    "approve": ({PurchaseRequestStatus.SUBMITTED}, PurchaseRequestStatus.APPROVED),
    "reject": ({PurchaseRequestStatus.SUBMITTED}, PurchaseRequestStatus.REJECTED),
    "receive": ({PurchaseRequestStatus.APPROVED}, PurchaseRequestStatus.RECEIVED),
    "cancel": (
        {PurchaseRequestStatus.DRAFT, PurchaseRequestStatus.SUBMITTED, PurchaseRequestStatus.APPROVED},
        PurchaseRequestStatus.CANCELLED,
    ),
}


@transaction.atomic
def purchase_request_transition(
    *,
    request: PurchaseRequest,
    transition: str,
    actor,
    reason: str = "",
    warehouse: Warehouse | None = None,
) -> PurchaseRequest:
    """submit, approve, reject (reason), receive (into a warehouse: receipt movements
    for every line, in this transaction) or cancel. Any other move answers 409."""
    request = _lock(request)
    allowed_from, new_status = TRANSITIONS[transition]
    if request.status not in allowed_from:
        raise InvalidTransition(f"Cannot {transition} {request.number}: it is {request.status}.")
    now, who = timezone.now(), _by(actor)
    changes: dict[str, Any] = {"status": [request.status, new_status]}
    if transition == "submit":
        if not request.lines.exists():
            raise InvalidTransition(f"{request.number} has no lines; add at least one before submitting.")
        request.submitted_by_id, request.submitted_by_email, request.submitted_at = who["id"], who["email"], now
    elif transition in ("approve", "reject"):
        if transition == "reject":
            if not reason.strip():
                raise InvalidMovement("A reason is required to reject.", field="reason")
            request.rejection_reason = reason.strip()
            changes["rejection_reason"] = [None, request.rejection_reason]
        request.decided_by_id, request.decided_by_email, request.decided_at = who["id"], who["email"], now
    elif transition == "receive":
        if warehouse is None:
            raise InvalidMovement("A warehouse is required to receive.", field="warehouse")
        for line in request.lines.select_related("product").order_by("product_id"):
            stock_movement_record(
                kind=MovementKind.RECEIPT,
                product=line.product,
                quantity=line.quantity,
                to_warehouse=warehouse,
                reference=request.number,
                purchase_request=request,
                actor=actor,
            )
        request.received_into = warehouse
        request.received_by_id, request.received_by_email, request.received_at = who["id"], who["email"], now
        changes["received_into"] = [None, warehouse.code]
    elif transition == "cancel":
        request.cancelled_by_id, request.cancelled_by_email, request.cancelled_at = who["id"], who["email"], now
    request.status = new_status
    request.save()
    audit_record(action=f"purchase_request.{new_status}", target=request, actor=actor, changes=changes)
    return request


@transaction.atomic
def purchase_request_delete(*, request: PurchaseRequest, actor) -> None:
    """Drafts, rejected and cancelled requests can be deleted; the others are history."""
    request = _lock(request)
    if request.status not in (
        PurchaseRequestStatus.DRAFT,
        PurchaseRequestStatus.REJECTED,
        PurchaseRequestStatus.CANCELLED,
    ):
        raise StillReferenced(f"{request.number} is {request.status}; cancel it instead of deleting it.")
    number, pk, lines = request.number, request.pk, _lines_snapshot(request)
    request.delete()
    audit_record(
        action="purchase_request.deleted",
        object_type="inventory.purchaserequest",
        object_id=str(pk),
        actor=actor,
        changes={"number": [number, None], "lines": [lines, None]},
    )
