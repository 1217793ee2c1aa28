"""The data `bench/request_path.py` serves: run in a child (`manage.py shell -c`) on the
benchmark's scratch database.

`populate(spread, path)` provisions tenant `bench` (50 products, 2 warehouses, stock in
both, through the services) and `spread - 1` more tenants with the same rows, each with
its own owner, then writes the hosts and access tokens to `path` as JSON.
"""

import json
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.tokens import tokens_issue
from inventory import services
from inventory.models import Product, Warehouse
from plans.services import tenant_plan_change
from tenants.services import tenant_provision

PASSWORD = "bench-pass-word-1"
# Copied from `bench` to every other tenant, parents first.
TABLES = ("inventory_warehouse", "inventory_product", "inventory_stocklevel")


def open_rate(tenant) -> None:
    """A limit the benchmark never reaches, so the throttle counts (its real cost) but
    never refuses."""
    tenant_plan_change(tenant=tenant, overrides={"quotas": {"api_requests_per_minute": 10**9}})


def populate_products(tenant, actor) -> None:
    """50 products, 2 warehouses, stock of each product in both (through the services)."""
    with schema_context(tenant.schema_name):
        warehouses = [
            services.catalogue_create(model=Warehouse, actor=actor, code=f"W{n}", name=f"Warehouse {n}") for n in (1, 2)
        ]
        for index in range(50):
            product = services.catalogue_create(
                model=Product, actor=actor, sku=f"SKU-{index:03d}", name=f"Product {index}", reorder_level=5
            )
            for warehouse in warehouses:
                quantity = Decimal(index + 1)
                services.stock_movement_record(
                    kind="receipt", product=product, quantity=quantity, actor=actor, to_warehouse=warehouse
                )


def populate(spread: int, path: str) -> None:
    hashed = make_password(PASSWORD)  # once: a new owner's Argon2 hash is not what is measured
    owners = User.objects.bulk_create(
        User(email=f"owner{index}@bench.test", password=hashed, is_active=True) for index in range(spread)
    )
    first = tenant_provision(slug="bench", name="Bench", owner=owners[0]).tenant
    open_rate(first)
    populate_products(first, owners[0])
    tenants = [first]
    for index in range(1, spread):
        tenant = tenant_provision(slug=f"bench{index:05d}", name=f"Bench {index}", owner=owners[index]).tenant
        open_rate(tenant)
        with connection.cursor() as cursor:
            for table in TABLES:
                source, target = f'"{first.schema_name}".{table}', f'"{tenant.schema_name}".{table}'
                cursor.execute(f"INSERT INTO {target} SELECT * FROM {source}")
        tenants.append(tenant)
    pairs = [
        {"host": tenant.primary_host, "token": tokens_issue(user=owner, tenant=tenant)["access"]}
        for tenant, owner in zip(tenants, owners, strict=True)
    ]
    with open(path, "w") as handle:
        json.dump({"schema": first.schema_name, "tenants": pairs}, handle)
