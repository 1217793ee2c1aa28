"""Inventory endpoints. Thin: validate, call a service, serialise."""

from django.db.models import Model, Q
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.filters import FilterSet, IsoDateTimeFromToRangeFilter, UUIDFilter
from core.openapi import errors
from core.permissions import OwnObjectOrRole, RoleByAction
from core.roles import Role
from inventory import selectors, services
from inventory.models import Product, StockMovement, Supplier, Warehouse

from . import serializers as s

NOT_ALLOWED = {405: OpenApiResponse(description="Movements are immutable.")}


def crud_schema(serializer):
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), **errors(400, 401, 403)}),
        retrieve=extend_schema(responses={200: serializer, **errors(401, 403, 404)}),
        create=extend_schema(responses={201: serializer, **errors(400, 401, 403, 409)}),
        update=extend_schema(responses={200: serializer, **errors(400, 401, 403, 404, 409)}),
        partial_update=extend_schema(responses={200: serializer, **errors(400, 401, 403, 404, 409)}),
        destroy=extend_schema(responses={204: None, **errors(401, 403, 404, 409)}),
    )


class CatalogueViewSet(viewsets.ModelViewSet):
    """Products, suppliers and warehouses: read for everyone, write for managers,
    delete for admins (409 while still referenced)."""

    permission_classes = [RoleByAction]
    module = "inventory"
    model: type[Model]

    def perform_create(self, serializer):
        instance = services.catalogue_create(model=self.model, actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=instance.pk)

    def perform_update(self, serializer):
        instance = services.catalogue_update(
            instance=serializer.instance, actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=instance.pk)

    def perform_destroy(self, instance):
        services.catalogue_delete(instance=instance, actor=self.request.user)


@extend_schema(tags=["inventory"])
@crud_schema(s.ProductSerializer)
class ProductViewSet(CatalogueViewSet):
    model = Product
    serializer_class = s.ProductSerializer
    filterset_fields = ["is_active", "unit", "sku"]
    search_fields = ["sku", "name", "description"]
    ordering_fields = ["sku", "name", "created_at", "on_hand", "reorder_level"]
    ordering = ["sku"]
    role_by_action = {"low_stock": Role.VIEWER}

    def get_queryset(self):
        return selectors.product_list()

    @extend_schema(responses={200: s.ProductSerializer(many=True), **errors(401, 403)})
    @action(detail=False, methods=["get"], url_path="low-stock")
    def low_stock(self, request):
        """Active products whose total on hand is at or below their reorder level."""
        products = self.filter_queryset(selectors.product_low_stock_list())
        page = self.paginate_queryset(products)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(tags=["inventory"])
@crud_schema(s.SupplierSerializer)
class SupplierViewSet(CatalogueViewSet):
    model = Supplier
    serializer_class = s.SupplierSerializer
    search_fields = ["name", "email", "phone"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.supplier_list()


@extend_schema(tags=["inventory"])
@crud_schema(s.WarehouseSerializer)
class WarehouseViewSet(CatalogueViewSet):
    model = Warehouse
    serializer_class = s.WarehouseSerializer
    filterset_fields = ["code"]
    search_fields = ["code", "name", "address"]
    ordering_fields = ["code", "name", "created_at"]
    ordering = ["code"]

    def get_queryset(self):
        return selectors.warehouse_list()


@extend_schema(tags=["inventory"])
@extend_schema_view(
    list=extend_schema(responses={200: s.StockLevelSerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: s.StockLevelSerializer, **errors(401, 403, 404)}),
)
class StockLevelViewSet(viewsets.ReadOnlyModelViewSet):
    """Stock per (product, warehouse). Read-only: movements change it."""

    serializer_class = s.StockLevelSerializer
    permission_classes = [RoleByAction]
    module = "inventory"
    filterset_fields = ["product", "warehouse"]
    ordering_fields = ["quantity", "updated_at"]
    ordering = ["product__sku", "warehouse__code"]

    def get_queryset(self):
        return selectors.stock_level_list()


class StockMovementFilter(FilterSet):
    warehouse = UUIDFilter(method="filter_warehouse", help_text="Either side of the movement.")
    created_at = IsoDateTimeFromToRangeFilter()

    class Meta:
        model = StockMovement
        fields = ["kind", "product", "from_warehouse", "to_warehouse", "purchase_request", "reference"]

    def filter_warehouse(self, queryset, name, value):
        return queryset.filter(Q(from_warehouse=value) | Q(to_warehouse=value))


@extend_schema(tags=["inventory"])
@extend_schema_view(
    list=extend_schema(responses={200: s.StockMovementSerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: s.StockMovementSerializer, **errors(401, 403, 404)}),
)
class StockMovementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Record receipts, issues, transfers and stock counts. Movements are immutable:
    PUT, PATCH and DELETE answer 405."""

    serializer_class = s.StockMovementSerializer
    permission_classes = [RoleByAction]
    module = "inventory"
    role_by_action = {"create": Role.MEMBER}
    filterset_class = StockMovementFilter
    search_fields = ["reference", "note", "product__sku"]
    ordering_fields = ["created_at", "quantity"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.stock_movement_list()

    @extend_schema(
        request=s.StockMovementInputSerializer,
        responses={201: s.StockMovementSerializer, **errors(400, 401, 403, 409)},
        description=(
            "`receipt` needs `to_warehouse`; `issue` needs `from_warehouse`; `transfer` needs both; "
            "`adjustment` sets the counted `quantity` at `to_warehouse`. 409 when stock would go negative."
        ),
    )
    def create(self, request):
        data = s.StockMovementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        movement = services.stock_movement_record(**data.validated_data, actor=request.user)
        return Response(s.StockMovementSerializer(movement).data, status=status.HTTP_201_CREATED)


TRANSITION_DOC = {
    200: s.PurchaseRequestSerializer,
    **errors(400, 401, 403, 404),
    409: OpenApiResponse(description="Not allowed from the request's current status."),
}


@extend_schema(tags=["purchase requests"])
@extend_schema_view(
    list=extend_schema(responses={200: s.PurchaseRequestSerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: s.PurchaseRequestSerializer, **errors(401, 403, 404)}),
    destroy=extend_schema(responses={204: None, **errors(401, 403, 404, 409)}),
)
class PurchaseRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Purchase requests: draft -> submitted -> approved -> received; submitted ->
    rejected; draft/submitted/approved -> cancelled. Only drafts are editable.

    A member edits, submits and cancels their own requests; a manager anyone's.
    """

    serializer_class = s.PurchaseRequestSerializer
    module = "inventory"
    permission_classes = [
        RoleByAction,
        OwnObjectOrRole(Role.MANAGER, actions=frozenset({"partial_update", "submit", "cancel"}), noun="request"),
    ]
    role_by_action = {
        "create": Role.MEMBER,
        "partial_update": Role.MEMBER,
        "submit": Role.MEMBER,
        "cancel": Role.MEMBER,
        "approve": Role.MANAGER,
        "reject": Role.MANAGER,
        "receive": Role.MANAGER,
    }
    filterset_fields = ["status", "supplier", "received_into"]
    search_fields = ["number", "note", "supplier__name"]
    ordering_fields = ["created_at", "number", "status"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.purchase_request_list()

    def _render(self, purchase_request, status_code=status.HTTP_200_OK):
        fresh = selectors.purchase_request_list().get(pk=purchase_request.pk)
        return Response(s.PurchaseRequestSerializer(fresh).data, status=status_code)

    @extend_schema(
        request=s.PurchaseRequestInputSerializer,
        responses={201: s.PurchaseRequestSerializer, **errors(400, 401, 403)},
    )
    def create(self, request):
        data = s.PurchaseRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.purchase_request_create(**data.validated_data, actor=request.user)
        return self._render(created, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.PurchaseRequestUpdateSerializer,
        responses={200: s.PurchaseRequestSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request, pk=None):
        purchase_request = self.get_object()  # 404 first: ids of other tenants reveal nothing
        data = s.PurchaseRequestUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.purchase_request_update(
            purchase_request=purchase_request, actor=request.user, **data.validated_data
        )
        return self._render(updated)

    def perform_destroy(self, instance):
        services.purchase_request_delete(purchase_request=instance, actor=self.request.user)

    @extend_schema(request=None, responses=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._render(services.purchase_request_submit(purchase_request=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._render(services.purchase_request_approve(purchase_request=self.get_object(), actor=request.user))

    @extend_schema(request=s.RejectSerializer, responses=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        purchase_request = self.get_object()
        data = s.RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rejected = services.purchase_request_reject(
            purchase_request=purchase_request, actor=request.user, **data.validated_data
        )
        return self._render(rejected)

    @extend_schema(request=s.ReceiveSerializer, responses=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        purchase_request = self.get_object()
        data = s.ReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        received = services.purchase_request_receive(
            purchase_request=purchase_request, actor=request.user, **data.validated_data
        )
        return self._render(received)

    @extend_schema(request=None, responses=TRANSITION_DOC)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._render(services.purchase_request_cancel(purchase_request=self.get_object(), actor=request.user))
