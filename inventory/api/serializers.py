"""Input serializers validate (and name the field in error); output serializers render."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from core.serializers import DecimalField, ModelSerializer, StringField, person
from inventory.models import (
    MovementKind,
    Product,
    PurchaseRequest,
    PurchaseRequestLine,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)

QUANTITY: dict[str, Any] = {"max_digits": 14, "decimal_places": 3}
# A sum of stock levels (each at most 99,999,999,999.999, see QUANTITY_MAX): 17 integer
# digits hold the total of a million warehouses filled to the limit.
TOTAL_QUANTITY: dict[str, Any] = {"max_digits": 20, "decimal_places": 3}


# --- catalogue ---------------------------------------------------------------------


class SupplierSerializer(ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "email", "phone", "address", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class WarehouseSerializer(ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "address", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness, whatever the case, is the service's (409), not a 400 from the serializer.
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}


class ProductSerializer(ModelSerializer):
    on_hand = DecimalField(**TOTAL_QUANTITY, read_only=True, help_text="Total across all warehouses.")
    reorder_level = DecimalField(**QUANTITY, min_value=Decimal("0"), required=False)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "unit",
            "reorder_level",
            "is_active",
            "on_hand",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "on_hand", "created_at", "updated_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {"sku": {"validators": []}}


# --- stock -------------------------------------------------------------------------


class StockLevelSerializer(ModelSerializer):
    product_sku = StringField(source="product.sku", read_only=True)
    warehouse_code = StringField(source="warehouse.code", read_only=True)

    class Meta:
        model = StockLevel
        fields = ["id", "product", "product_sku", "warehouse", "warehouse_code", "quantity", "updated_at"]
        read_only_fields = fields


class StockMovementSerializer(ModelSerializer):
    created_by = person("created_by")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "kind",
            "product",
            "from_warehouse",
            "to_warehouse",
            "quantity",
            "delta",
            "reference",
            "note",
            "purchase_request",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class StockMovementInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MovementKind.choices)
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = DecimalField(
        **QUANTITY,
        min_value=Decimal("0"),
        # The field takes 0 for an adjustment (a count of nothing); the service refuses 0
        # for the other kinds with the same rule in words.
        error_messages={"min_value": "Quantity must be greater than zero (zero only for an adjustment)."},
        help_text="Greater than zero; an adjustment's counted quantity may be zero.",
    )
    from_warehouse = serializers.PrimaryKeyRelatedField(
        queryset=Warehouse.objects.all(), required=False, allow_null=True
    )
    to_warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all(), required=False, allow_null=True)
    reference = StringField(max_length=100, required=False, allow_blank=True, default="")
    note = StringField(max_length=2000, required=False, allow_blank=True, default="")


# --- purchase requests -------------------------------------------------------------


class PurchaseRequestLineSerializer(ModelSerializer):
    product_sku = StringField(source="product.sku", read_only=True)
    total = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseRequestLine
        fields = ["id", "product", "product_sku", "quantity", "unit_price", "total"]
        read_only_fields = fields

    def get_total(self, line) -> str:
        return str((line.quantity * line.unit_price).quantize(Decimal("0.01")))


class PurchaseRequestSerializer(ModelSerializer):
    lines = PurchaseRequestLineSerializer(many=True, read_only=True)
    total = serializers.SerializerMethodField()
    created_by = person("created_by")
    submitted_by = person("submitted_by")
    decided_by = person("decided_by")
    received_by = person("received_by")
    cancelled_by = person("cancelled_by")

    class Meta:
        model = PurchaseRequest
        fields = [
            "id",
            "number",
            "status",
            "supplier",
            "note",
            "lines",
            "total",
            "created_by",
            "submitted_by",
            "submitted_at",
            "decided_by",
            "decided_at",
            "rejection_reason",
            "received_into",
            "received_by",
            "received_at",
            "cancelled_by",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_total(self, request) -> str:
        """Sum of quantity x unit price, in Decimal, rounded to cents once at the end."""
        total = getattr(request, "total", None)
        if total is None:
            total = sum((line.quantity * line.unit_price for line in request.lines.all()), Decimal("0"))
        return str(Decimal(total).quantize(Decimal("0.01")))


def _some_lines(lines: list) -> list:
    # Here rather than allow_empty=False, whose error nests as {"lines": {"non_field_errors": ...}}.
    if not lines:
        raise serializers.ValidationError("A purchase request needs at least one line.")
    return lines


class PurchaseRequestLineInputSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = DecimalField(
        **QUANTITY, min_value=Decimal("0.001"), error_messages={"min_value": "Quantity must be greater than zero."}
    )
    unit_price = DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={"min_value": "Unit price must be zero or more."},
    )


class PurchaseRequestInputSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    note = StringField(max_length=2000, required=False, allow_blank=True, default="")
    lines = PurchaseRequestLineInputSerializer(  # type: ignore[call-arg]  # ListSerializer takes max_length
        many=True, max_length=500, help_text="At least one line; each product once."
    )

    def validate_lines(self, lines):
        return _some_lines(lines)


class PurchaseRequestUpdateSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all(), required=False)
    note = StringField(max_length=2000, required=False, allow_blank=True)
    lines = PurchaseRequestLineInputSerializer(  # type: ignore[call-arg]  # ListSerializer takes max_length
        many=True, required=False, max_length=500, help_text="Replaces every line: at least one, each product once."
    )

    def validate_lines(self, lines):
        return _some_lines(lines)


class RejectSerializer(serializers.Serializer):
    reason = StringField(max_length=2000)


class ReceiveSerializer(serializers.Serializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
