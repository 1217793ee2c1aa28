"""Every write to inventory. One transaction each, with its audit record inside.

Stock changes lock the StockLevel rows they touch, always in primary-key order, so two
transfers in opposite directions queue instead of deadlocking, and concurrent issues
cannot oversell: stock never goes negative (InsufficientStock, nothing written), and
never grows beyond what its column holds (StockLimitExceeded, nothing written).
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction
from django.db.models import Model, ProtectedError
from django.utils import timezone

from audit.services import audit_record, diff, snapshot
from audit.vocabulary import object_type_of
from core.quotas import quota_reserve

from .exceptions import (
    DuplicateValue,
    InsufficientStock,
    InvalidMovement,
    InvalidPurchaseRequest,
    InvalidTransition,
    NotEditable,
    StillReferenced,
    StockLimitExceeded,
)
from .models import (
    QUANTITY_MAX,
    MovementKind,
    Product,
    PurchaseRequest,
    PurchaseRequestCounter,
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
_QUOTA: dict[type[Model], str] = {Product: "products", Warehouse: "warehouses"}
M = TypeVar("M", bound=Model)


def _save_unique(instance: Model) -> None:
    """Save; a SKU or warehouse code already taken, in any case (the unique indexes are
    on lower(...)), is a 409 naming the one that holds it."""
    field = _UNIQUE_FIELD.get(type(instance))
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        value = getattr(instance, field) if field else None
        holder = (
            type(instance)._default_manager.filter(**{f"{field}__iexact": value}).exclude(pk=instance.pk).first()
            if field
            else None
        )
        if holder is not None:
            taken = getattr(holder, str(field))
            same = "" if taken == value else f' (as "{taken}": {field}s are compared ignoring case)'
            raise DuplicateValue(
                f'{str(instance._meta.verbose_name).capitalize()} {field} "{value}" is already in use{same}.',
                field=str(field),
            ) from exc
        raise


@transaction.atomic
def catalogue_create(*, model: type[M], actor, **fields) -> M:
    """Create a product, supplier or warehouse (products and warehouses within the
    plan's quotas)."""
    quota = _QUOTA.get(model)
    if quota is not None:
        quota_reserve(quota, used=model._default_manager.count)
    instance = model(**fields)
    _save_unique(instance)
    audit_record(
        action=f"{object_type_of(model)}.created",
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
        audit_record(action=f"{object_type_of(instance)}.updated", target=instance, actor=actor, changes=changes)
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
        action=f"{object_type_of(instance)}.deleted",
        object_type=object_type_of(instance),
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
            raise InvalidMovement(f"{kind.capitalize()} movements need {field}.", field=field)
        if not needed and given is not None:
            raise InvalidMovement(f"{kind.capitalize()} movements take no {field}.", field=field)
    if kind == MovementKind.TRANSFER and from_warehouse.pk == to_warehouse.pk:
        raise InvalidMovement("A transfer needs two different warehouses.", field="to_warehouse")
    if quantity < 0 or (quantity == 0 and kind != MovementKind.ADJUSTMENT):
        rule = "zero or more for an adjustment" if kind == MovementKind.ADJUSTMENT else "greater than zero"
        raise InvalidMovement(f"Quantity must be {rule}.", field="quantity")
    if quantity > QUANTITY_MAX:
        raise InvalidMovement(f"Quantity must be at most {QUANTITY_MAX}.", field="quantity")


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
    """Record a movement and change the stock it moves, together or not at all.

    Refused with 409, nothing written: taking more than a warehouse holds
    (`insufficient_stock`), or a receipt or transfer that would take the target's
    level beyond QUANTITY_MAX (`stock_limit_exceeded`). The input is valid either way;
    the current stock is what refuses it.
    """
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
        if target.quantity > QUANTITY_MAX:
            raise StockLimitExceeded(sku=product.sku, warehouse=to_warehouse.code, limit=QUANTITY_MAX)
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
    """Take the next number in the caller's transaction (see PurchaseRequestCounter):
    the row stays locked until it commits, and a rollback gives the number back."""
    table = PurchaseRequestCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, last) VALUES (1, 1) "  # noqa: S608 - the model's own table name
            f"ON CONFLICT (id) DO UPDATE SET last = {table}.last + 1 RETURNING last"
        )
        return f"PR-{cursor.fetchone()[0]:06d}"


def _check_lines(lines: list[dict]) -> None:
    """Refuse lines a request cannot have, before anything is written or numbered."""
    if not lines:
        raise InvalidPurchaseRequest("A purchase request needs at least one line.", field="lines")
    products = [line["product"].pk for line in lines]
    if len(products) != len(set(products)):
        raise InvalidPurchaseRequest("Each product may appear on one line only.", field="lines")


def _replace_lines(purchase_request: PurchaseRequest, lines: list[dict]) -> None:
    _check_lines(lines)
    purchase_request.lines.all().delete()
    PurchaseRequestLine.objects.bulk_create(
        [
            PurchaseRequestLine(
                request=purchase_request,
                product=line["product"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
            )
            for line in lines
        ]
    )


def _lines_snapshot(purchase_request: PurchaseRequest) -> list:
    return [
        [line.product.sku, str(line.quantity), str(line.unit_price)]
        for line in purchase_request.lines.select_related("product").order_by("product__sku")
    ]


@transaction.atomic
def purchase_request_create(*, supplier: Supplier, lines: list[dict], actor, note: str = "") -> PurchaseRequest:
    """A draft with its lines. Its number is taken in this transaction, once the lines
    have passed: a refused or failed create gives it back, so numbers have no gaps."""
    _check_lines(lines)
    who = _by(actor)
    purchase_request = PurchaseRequest.objects.create(
        number=_next_number(), supplier=supplier, note=note, created_by_id=who["id"], created_by_email=who["email"]
    )
    _replace_lines(purchase_request, lines)
    audit_record(
        action="purchase_request.created",
        target=purchase_request,
        actor=actor,
        changes={
            "number": [None, purchase_request.number],
            "supplier": [None, supplier.name],
            "lines": [None, _lines_snapshot(purchase_request)],
        },
    )
    return purchase_request


def _lock(purchase_request: PurchaseRequest) -> PurchaseRequest:
    return (
        PurchaseRequest.objects.select_for_update(of=("self",)).select_related("supplier").get(pk=purchase_request.pk)
    )


@transaction.atomic
def purchase_request_update(
    *,
    purchase_request: PurchaseRequest,
    actor,
    supplier: Supplier | None = None,
    note: str | None = None,
    lines=None,
) -> PurchaseRequest:
    """Only drafts are editable; `lines`, when given, replace all lines."""
    purchase_request = _lock(purchase_request)
    if purchase_request.status != PurchaseRequestStatus.DRAFT:
        raise NotEditable(f"{purchase_request.number} is {purchase_request.status}; only drafts can be edited.")
    changes: dict[str, Any] = {}
    if supplier is not None and supplier.pk != purchase_request.supplier_id:
        changes["supplier"] = [purchase_request.supplier.name, supplier.name]
        purchase_request.supplier = supplier
    if note is not None and note != purchase_request.note:
        changes["note"] = [purchase_request.note, note]
        purchase_request.note = note
    if lines is not None:
        before = _lines_snapshot(purchase_request)
        _replace_lines(purchase_request, lines)
        after = _lines_snapshot(purchase_request)
        if before != after:
            changes["lines"] = [before, after]
    if changes:
        purchase_request.save()
        audit_record(action="purchase_request.updated", target=purchase_request, actor=actor, changes=changes)
    return purchase_request


# The state machine: each step, the statuses it may start from, and where it goes.
# Any other move answers 409 (InvalidTransition).
PURCHASE_REQUEST_STEPS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({PurchaseRequestStatus.DRAFT}), PurchaseRequestStatus.SUBMITTED),
    "approve": (frozenset({PurchaseRequestStatus.SUBMITTED}), PurchaseRequestStatus.APPROVED),
    "reject": (frozenset({PurchaseRequestStatus.SUBMITTED}), PurchaseRequestStatus.REJECTED),
    "receive": (frozenset({PurchaseRequestStatus.APPROVED}), PurchaseRequestStatus.RECEIVED),
    "cancel": (
        frozenset({PurchaseRequestStatus.DRAFT, PurchaseRequestStatus.SUBMITTED, PurchaseRequestStatus.APPROVED}),
        PurchaseRequestStatus.CANCELLED,
    ),
}


def _step_begin(purchase_request: PurchaseRequest, step: str) -> PurchaseRequest:
    """The shared guard of every step: lock the row, refuse a move the state machine
    does not allow. Returns the locked, fresh row."""
    purchase_request = _lock(purchase_request)
    allowed_from, _ = PURCHASE_REQUEST_STEPS[step]
    if purchase_request.status not in allowed_from:
        raise InvalidTransition(f"Cannot {step} {purchase_request.number}: it is {purchase_request.status}.")
    return purchase_request


def _step_finish(
    purchase_request: PurchaseRequest, step: str, *, actor, changes: dict | None = None
) -> PurchaseRequest:
    """Move to the step's status, save, and record it in the audit trail."""
    _, new_status = PURCHASE_REQUEST_STEPS[step]
    changes = {"status": [purchase_request.status, new_status], **(changes or {})}
    purchase_request.status = new_status
    purchase_request.save()
    audit_record(action=f"purchase_request.{new_status}", target=purchase_request, actor=actor, changes=changes)
    return purchase_request


@transaction.atomic
def purchase_request_submit(*, purchase_request: PurchaseRequest, actor) -> PurchaseRequest:
    """draft -> submitted, once it has at least one line."""
    purchase_request = _step_begin(purchase_request, "submit")
    if not purchase_request.lines.exists():
        raise InvalidTransition(f"{purchase_request.number} has no lines; add at least one before submitting.")
    who = _by(actor)
    purchase_request.submitted_by_id, purchase_request.submitted_by_email = who["id"], who["email"]
    purchase_request.submitted_at = timezone.now()
    return _step_finish(purchase_request, "submit", actor=actor)


def _decide(purchase_request: PurchaseRequest, actor) -> None:
    who = _by(actor)
    purchase_request.decided_by_id, purchase_request.decided_by_email = who["id"], who["email"]
    purchase_request.decided_at = timezone.now()


@transaction.atomic
def purchase_request_approve(*, purchase_request: PurchaseRequest, actor) -> PurchaseRequest:
    """submitted -> approved."""
    purchase_request = _step_begin(purchase_request, "approve")
    _decide(purchase_request, actor)
    return _step_finish(purchase_request, "approve", actor=actor)


@transaction.atomic
def purchase_request_reject(*, purchase_request: PurchaseRequest, actor, reason: str) -> PurchaseRequest:
    """submitted -> rejected, with the reason kept on the request."""
    purchase_request = _step_begin(purchase_request, "reject")
    if not reason.strip():
        raise InvalidPurchaseRequest("A reason is required to reject.", field="reason")
    _decide(purchase_request, actor)
    purchase_request.rejection_reason = reason.strip()
    return _step_finish(
        purchase_request, "reject", actor=actor, changes={"rejection_reason": [None, purchase_request.rejection_reason]}
    )


@transaction.atomic
def purchase_request_receive(
    *, purchase_request: PurchaseRequest, actor, warehouse: Warehouse | None
) -> PurchaseRequest:
    """approved -> received: one receipt movement per line into `warehouse`, in this
    same transaction, so the stock and the status change together or not at all."""
    purchase_request = _step_begin(purchase_request, "receive")
    if warehouse is None:
        raise InvalidPurchaseRequest("A warehouse is required to receive.", field="warehouse")
    for line in purchase_request.lines.select_related("product").order_by("product_id"):
        stock_movement_record(
            kind=MovementKind.RECEIPT,
            product=line.product,
            quantity=line.quantity,
            to_warehouse=warehouse,
            reference=purchase_request.number,
            purchase_request=purchase_request,
            actor=actor,
        )
    who = _by(actor)
    purchase_request.received_into = warehouse
    purchase_request.received_by_id, purchase_request.received_by_email = who["id"], who["email"]
    purchase_request.received_at = timezone.now()
    return _step_finish(purchase_request, "receive", actor=actor, changes={"received_into": [None, warehouse.code]})


@transaction.atomic
def purchase_request_cancel(*, purchase_request: PurchaseRequest, actor) -> PurchaseRequest:
    """draft, submitted or approved -> cancelled."""
    purchase_request = _step_begin(purchase_request, "cancel")
    who = _by(actor)
    purchase_request.cancelled_by_id, purchase_request.cancelled_by_email = who["id"], who["email"]
    purchase_request.cancelled_at = timezone.now()
    return _step_finish(purchase_request, "cancel", actor=actor)


# What can be deleted: requests that never moved stock and are not under way.
PURCHASE_REQUEST_DELETABLE = frozenset(
    {PurchaseRequestStatus.DRAFT, PurchaseRequestStatus.REJECTED, PurchaseRequestStatus.CANCELLED}
)


@transaction.atomic
def purchase_request_delete(*, purchase_request: PurchaseRequest, actor) -> None:
    """Drafts, rejected and cancelled requests can be deleted; the others are history."""
    purchase_request = _lock(purchase_request)
    if purchase_request.status not in PURCHASE_REQUEST_DELETABLE:
        cancellable, _ = PURCHASE_REQUEST_STEPS["cancel"]
        if purchase_request.status in cancellable:
            advice = "cancel it first; a cancelled request can be deleted"
        else:
            advice = "it is kept as the record of its stock receipts and cannot be deleted or cancelled"
        raise StillReferenced(f"{purchase_request.number} is {purchase_request.status}: {advice}.")
    number, pk, lines = purchase_request.number, purchase_request.pk, _lines_snapshot(purchase_request)
    purchase_request.delete()
    audit_record(
        action="purchase_request.deleted",
        object_type=object_type_of(PurchaseRequest),
        object_id=str(pk),
        actor=actor,
        changes={"number": [number, None], "lines": [lines, None]},
    )
