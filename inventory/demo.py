"""Inventory's demo data for `seed_demo` (registered in InventoryConfig.ready)."""

from decimal import Decimal

from .models import Product, Supplier, Warehouse
from .services import catalogue_create, purchase_request_create, purchase_request_submit, stock_movement_record


def seed_inventory(tenant) -> None:
    """A few products, two warehouses, stock and a submitted purchase request, once per tenant."""
    if Product.objects.exists():
        return
    main = catalogue_create(model=Warehouse, actor=None, code="MAIN", name="Main warehouse")
    east = catalogue_create(model=Warehouse, actor=None, code="EAST", name="East depot")
    supplier = catalogue_create(
        model=Supplier, actor=None, name=f"{tenant.slug.capitalize()} Supply Co", email="sales@supply.test"
    )
    catalogue = [
        ("BOLT-M8", "M8 bolt", "pcs", "200", "500"),
        ("NUT-M8", "M8 nut", "pcs", "200", "120"),
        ("WASHER-M8", "M8 washer", "pcs", "100", "0"),
        ("OIL-5L", "Machine oil 5 l", "can", "10", "14"),
        ("TAPE-50", "Duct tape 50 m", "roll", "20", "8"),
    ]
    products = {}
    for sku, name, unit, reorder, stock in catalogue:
        product = catalogue_create(
            model=Product, actor=None, sku=sku, name=name, unit=unit, reorder_level=Decimal(reorder)
        )
        products[sku] = product
        if Decimal(stock):
            stock_movement_record(
                kind="receipt",
                product=product,
                to_warehouse=main,
                quantity=Decimal(stock),
                actor=None,
                reference="opening stock",
            )
    stock_movement_record(
        kind="transfer",
        product=products["BOLT-M8"],
        from_warehouse=main,
        to_warehouse=east,
        quantity=Decimal("100"),
        actor=None,
    )
    purchase_request = purchase_request_create(
        supplier=supplier,
        actor=None,
        note="Restock fasteners",
        lines=[
            {"product": products["NUT-M8"], "quantity": Decimal("300"), "unit_price": Decimal("0.04")},
            {"product": products["WASHER-M8"], "quantity": Decimal("500"), "unit_price": Decimal("0.02")},
        ],
    )
    purchase_request_submit(purchase_request=purchase_request, actor=None)
