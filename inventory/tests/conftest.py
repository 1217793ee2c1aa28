from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from inventory.tests.factories import ProductFactory, StockLevelFactory, SupplierFactory, WarehouseFactory


@pytest.fixture
def stocked(tenant_a):
    """In tenant A: a product with 10 in warehouse MAIN and 0 in SPARE, and a supplier."""
    with tenant_context(tenant_a):
        product = ProductFactory(sku="BOLT-10", reorder_level=Decimal("5"))
        main, spare = WarehouseFactory(code="MAIN"), WarehouseFactory(code="SPARE")
        StockLevelFactory(product=product, warehouse=main, quantity=Decimal("10"))
        supplier = SupplierFactory(name="Bolt & Co")
    return {"product": product, "main": main, "spare": spare, "supplier": supplier}


@pytest.fixture
def manager(api_client_for, tenant_a):
    return api_client_for(tenant_a, role="manager")
