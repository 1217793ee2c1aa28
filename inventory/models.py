"""Products, suppliers, warehouses, stock and purchase requests (tenant schemas).

The schema is the tenant boundary: no tenant columns here. People are referenced by id
and e-mail snapshot, not by foreign key: users live in the public schema and history
must not change when one is deleted.
"""

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from core.models import UUIDModel

QUANTITY: dict[str, Any] = {"max_digits": 14, "decimal_places": 3}
MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
# The largest quantity a column holds: 99,999,999,999.999. A movement that would take a
# stock level beyond it is refused (StockLimitExceeded), so a level always fits.
QUANTITY_MAX = Decimal(10) ** (QUANTITY["max_digits"] - QUANTITY["decimal_places"]) - Decimal(1).scaleb(
    -QUANTITY["decimal_places"]
)


class Supplier(UUIDModel):
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Warehouse(UUIDModel):
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["code"]
        # Codes are names people type: NORTH and north are one warehouse.
        constraints = [models.UniqueConstraint(Lower("code"), name="warehouse_code_unique_ci")]

    def __str__(self):
        return self.code


class Product(UUIDModel):
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    unit = models.CharField(max_length=16, default="pcs")
    reorder_level = models.DecimalField(**QUANTITY, default=Decimal("0"), validators=[MinValueValidator(0)])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            # SKUs, like warehouse codes, are unique whatever their case: BOLT-10 is bolt-10.
            models.UniqueConstraint(Lower("sku"), name="product_sku_unique_ci"),
            models.CheckConstraint(condition=Q(reorder_level__gte=0), name="product_reorder_level_gte_0"),
        ]

    def __str__(self):
        return self.sku


class StockLevel(UUIDModel):
    """How much of a product one warehouse holds. Changed only by stock movements."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    quantity = models.DecimalField(**QUANTITY, default=Decimal("0"))

    class Meta:
        ordering = ["product_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stock_level_product_warehouse_unique"),
            # The services refuse to oversell; this is the database's backstop.
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_level_quantity_gte_0"),
        ]


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ISSUE = "issue", "Issue"
    TRANSFER = "transfer", "Transfer"
    ADJUSTMENT = "adjustment", "Adjustment"


class StockMovement(UUIDModel):
    """An immutable record of stock coming in, going out, moving or being counted.

    receipt: +quantity at to_warehouse; issue: -quantity at from_warehouse; transfer:
    from -> to; adjustment: the counted quantity at to_warehouse (`delta` keeps the
    change it made).
    """

    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    from_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="outgoing_movements"
    )
    to_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="incoming_movements"
    )
    quantity = models.DecimalField(**QUANTITY)
    delta = models.DecimalField(**QUANTITY, null=True, blank=True, help_text="Adjustments: counted minus previous.")
    reference = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    purchase_request = models.ForeignKey(
        "PurchaseRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    created_by_id = models.UUIDField(null=True, blank=True)
    created_by_email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0) | Q(kind="adjustment", quantity__gte=0),
                name="stock_movement_quantity_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="receipt", from_warehouse__isnull=True, to_warehouse__isnull=False)
                    | Q(kind="issue", from_warehouse__isnull=False, to_warehouse__isnull=True)
                    | (
                        Q(kind="transfer", from_warehouse__isnull=False, to_warehouse__isnull=False)
                        & ~Q(from_warehouse=models.F("to_warehouse"))
                    )
                    | Q(kind="adjustment", from_warehouse__isnull=True, to_warehouse__isnull=False)
                ),
                name="stock_movement_warehouses_match_kind",
            ),
        ]


class PurchaseRequestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseRequestCounter(models.Model):
    """The last purchase request number given out: one row per tenant schema.

    Numbers are taken by incrementing it in the creating transaction, after the input
    has been checked: a refused or rolled-back create gives its number back (a sequence
    would not), and concurrent creates queue on the row until the one before commits.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="purchase_request_counter_one_row")]

    def __str__(self):
        return f"PR-{self.last:06d}"


class PurchaseRequest(UUIDModel):
    number = models.CharField(max_length=16, unique=True, editable=False)
    status = models.CharField(
        max_length=16, choices=PurchaseRequestStatus.choices, default=PurchaseRequestStatus.DRAFT, db_index=True
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_requests")
    note = models.TextField(blank=True, max_length=2000)
    created_by_id = models.UUIDField(null=True, blank=True)
    created_by_email = models.CharField(max_length=254, blank=True)
    submitted_by_id = models.UUIDField(null=True, blank=True)
    submitted_by_email = models.CharField(max_length=254, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by_id = models.UUIDField(null=True, blank=True)
    decided_by_email = models.CharField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True, max_length=2000)
    received_into = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="purchase_requests"
    )
    received_by_id = models.UUIDField(null=True, blank=True)
    received_by_email = models.CharField(max_length=254, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_id = models.UUIDField(null=True, blank=True)
    cancelled_by_email = models.CharField(max_length=254, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.number


class PurchaseRequestLine(UUIDModel):
    request = models.ForeignKey(PurchaseRequest, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_request_lines")
    quantity = models.DecimalField(**QUANTITY)
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "product"], name="purchase_request_line_product_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchase_request_line_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="purchase_request_line_price_gte_0"),
        ]


class LowStockAlert(UUIDModel):
    """A product's crossing to or below its reorder level: opened when the hourly check
    first sees it low, closed (`recovered_at`) when it is seen above again. At most one
    open alert per product (the constraint), so a product that stays low is announced
    once, and again only after it has recovered and crossed anew."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="low_stock_alerts")
    on_hand = models.DecimalField(**QUANTITY)
    reorder_level = models.DecimalField(**QUANTITY)
    notified_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"], condition=Q(recovered_at__isnull=True), name="one_open_low_stock_alert"
            )
        ]
