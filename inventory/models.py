"""Products, suppliers, warehouses, stock and purchase requests (tenant schemas)."""
