"""Helpers the inventory tests share: post a movement, read a stock level."""

from decimal import Decimal

from django_tenants.utils import tenant_context

from inventory.models import StockLevel


def move(client, **body):
    """POST a stock movement, every value sent as a string (as the API takes them)."""
    return client.post("/api/v1/stock-movements/", {k: str(v) for k, v in body.items()})


def level(tenant, product, warehouse) -> Decimal:
    """The quantity of `product` in `warehouse` of `tenant`, 0 where no level exists."""
    with tenant_context(tenant):
        found = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
        return found.quantity if found else Decimal("0")
