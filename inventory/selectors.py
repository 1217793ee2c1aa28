"""Reads of inventory: every queryset the API lists, with what it joins, in one place."""

from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import (
    Product,
    PurchaseRequest,
    PurchaseRequestLine,
    PurchaseRequestStatus,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)

_ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=3))


def product_list() -> QuerySet[Product]:
    """Products with `on_hand`, the total across warehouses (a subquery: one row each)."""
    on_hand = (
        StockLevel.objects.filter(product=OuterRef("pk"))
        .values("product")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Product.objects.annotate(on_hand=Coalesce(Subquery(on_hand), _ZERO))


def product_count() -> int:
    """How many products this tenant has (its usage figure; every product counts)."""
    return Product.objects.count()


def product_low_stock_list() -> QuerySet[Product]:
    return product_list().filter(is_active=True, on_hand__lte=F("reorder_level"))  # type: ignore[misc]  # annotated


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.all()


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.all()


def stock_level_list() -> QuerySet[StockLevel]:
    return StockLevel.objects.select_related("product", "warehouse")


def stock_movement_list() -> QuerySet[StockMovement]:
    return StockMovement.objects.select_related("product", "from_warehouse", "to_warehouse")


def purchase_request_list() -> QuerySet[PurchaseRequest]:
    line_total = Sum(
        F("lines__quantity") * F("lines__unit_price"), output_field=DecimalField(max_digits=28, decimal_places=5)
    )
    return (
        PurchaseRequest.objects.select_related("supplier", "received_into")
        .prefetch_related(Prefetch("lines", queryset=PurchaseRequestLine.objects.select_related("product")))
        .annotate(
            total=Coalesce(line_total, Value(Decimal("0"), output_field=DecimalField(max_digits=28, decimal_places=5)))
        )
    )


def products_in_open_requests(product_ids) -> QuerySet[PurchaseRequestLine]:
    open_states = [PurchaseRequestStatus.DRAFT, PurchaseRequestStatus.SUBMITTED, PurchaseRequestStatus.APPROVED]
    return PurchaseRequestLine.objects.filter(Q(product_id__in=product_ids), request__status__in=open_states)


def purchase_request_counts(*, created_from, created_before) -> dict[str, int]:
    """Purchase requests created in [created_from, created_before), by status now;
    every status present, zero included (the weekly report's table)."""
    counts = dict(
        PurchaseRequest.objects.filter(created_at__gte=created_from, created_at__lt=created_before)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in PurchaseRequestStatus.values}
