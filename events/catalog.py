"""The event types customers can subscribe to, which audit action each comes from, and
how its `data` is rendered: by the owning app's API serializer, so an event shows the
resource exactly as `GET` on it would (a deleted one: its id only).

A new event type is one line in `EVENT_TYPES` (and one in `FROM_AUDIT` naming the
audit action it follows). `version` is the schema version of a type's `data`: it
changes, with a new type line kept beside the old one for a while, only when a
field is removed or changes meaning; adding a field keeps it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.api.serializers import MemberSerializer
from accounts.models import Membership
from accounts.selectors import MemberEntry
from core.http import public_base_url
from documents.api.serializers import DocumentSerializer
from documents.selectors import document_list
from inventory import selectors as inventory
from inventory.api import serializers as inventory_api
from tenants.api.serializers import TenantSerializer
from tenants.models import Tenant


@dataclass(frozen=True)
class EventType:
    name: str
    resource: str
    description: str
    version: int = 1


def _types(resource: str, description: str, *verbs: str) -> list[EventType]:
    return [EventType(f"{resource}.{verb}", resource, description.format(verb=verb)) for verb in verbs]


EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type
    for event_type in (
        *_types("product", "A product was {verb}.", "created", "updated", "deleted"),
        EventType("product.low_stock", "product", "A product's total on hand fell to its reorder level or below."),
        *_types("supplier", "A supplier was {verb}.", "created", "updated", "deleted"),
        *_types("warehouse", "A warehouse was {verb}.", "created", "updated", "deleted"),
        EventType(
            "stock_movement.recorded", "stock_movement", "A receipt, issue, transfer or adjustment (see `kind`)."
        ),
        *_types(
            "purchase_request",
            "A purchase request was {verb}.",
            "created",
            "updated",
            "submitted",
            "approved",
            "rejected",
            "received",
            "cancelled",
            "deleted",
        ),
        *_types("document", "A document was {verb}.", "uploaded", "updated", "deleted"),
        *_types("member", "A member was {verb}.", "added", "updated", "removed"),
        *_types("tenant", "The tenant was {verb}.", "created", "updated", "suspended", "resumed", "archived"),
    )
}

# Audit action -> event type. Actions not here (sign-ins, invitations, reports...) make
# no event.
FROM_AUDIT: dict[str, str] = {
    **{name: name for name in EVENT_TYPES if not name.startswith(("member.", "stock_movement.", "tenant.created"))},
    **{f"stock.{kind}": "stock_movement.recorded" for kind in ("receipt", "issue", "transfer", "adjustment")},
    "membership.added": "member.added",
    "membership.created": "member.added",  # the admin's name for it
    "membership.changed": "member.updated",
    "membership.updated": "member.updated",
    "tenant.ownership_transferred": "member.updated",
    "membership.removed": "member.removed",
    "membership.deleted": "member.removed",
    "tenant.provisioned": "tenant.created",
}


def _by_serializer(queryset: Callable[[], QuerySet], serializer) -> Callable[[str], dict | None]:
    def render(object_id: str) -> dict | None:
        instance = queryset().filter(pk=object_id).first()
        return dict(serializer(instance).data) if instance is not None else None

    return render


def _member(object_id: str) -> dict | None:
    membership = Membership.objects.select_related("user", "invited_by").filter(pk=object_id).first()
    return dict(MemberSerializer(MemberEntry.of(membership)).data) if membership is not None else None


class _TenantSerializer(TenantSerializer):
    """GET /tenant/'s answer; no request here, so `url` is the platform's public one."""

    def get_url(self, tenant) -> str:
        return public_base_url(tenant.primary_host)


def _tenant(object_id: str) -> dict | None:
    tenant = Tenant.objects.filter(pk=object_id).first()
    return dict(_TenantSerializer(tenant).data) if tenant is not None else None


RENDERERS: dict[str, Callable[[str], dict | None]] = {
    "product": _by_serializer(inventory.product_list, inventory_api.ProductSerializer),
    "supplier": _by_serializer(inventory.supplier_list, inventory_api.SupplierSerializer),
    "warehouse": _by_serializer(inventory.warehouse_list, inventory_api.WarehouseSerializer),
    "stock_movement": _by_serializer(inventory.stock_movement_list, inventory_api.StockMovementSerializer),
    "purchase_request": _by_serializer(inventory.purchase_request_list, inventory_api.PurchaseRequestSerializer),
    "document": _by_serializer(document_list, DocumentSerializer),
    "member": _member,
    "tenant": _tenant,
}


def event_type_for(action: str) -> EventType | None:
    name = FROM_AUDIT.get(action)
    return EVENT_TYPES[name] if name else None


def event_data(event_type: EventType, object_id: str) -> dict:
    """The resource as the API shows it now (inside the change's transaction); for a
    deletion, and whatever is gone meanwhile, `{"id": ...}` only."""
    if event_type.name.endswith((".deleted", ".removed")):
        return {"id": object_id}
    try:
        rendered = RENDERERS[event_type.resource](object_id)
    except (ValidationError, ValueError):  # not an id of that resource: nothing to show
        rendered = None
    return rendered or {"id": object_id}
