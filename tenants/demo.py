"""Demo data for `seed_demo`: each app contributes its own, so tenants never names them.

An app registers a seeder from its `AppConfig.ready()`:

    demo_data_provider("inventory")(seed_inventory)

`seed_demo` calls every seeder once per demo tenant, inside that tenant's schema and
the command's transaction. A seeder must be idempotent: it is called on every run.
"""

from collections.abc import Callable

from django_tenants.utils import tenant_context

from tenants.models import Tenant

_seeders: dict[str, Callable[[Tenant], None]] = {}


def demo_data_provider(name: str):
    def register(func: Callable[[Tenant], None]):
        _seeders[name] = func
        return func

    return register


def demo_data_seed(tenant: Tenant) -> list[str]:
    """Run every registered seeder in `tenant`'s schema; returns their names."""
    with tenant_context(tenant):
        for seed in _seeders.values():
            seed(tenant)
    return sorted(_seeders)
