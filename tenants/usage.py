"""What a tenant uses, as reported by `GET /api/v1/tenant/`.

Each app contributes its own figure (inventory: products; documents: storage bytes)
by registering a provider here, so this module never imports the domain apps.
Providers run in the tenant's schema (the request's), and return an int.
"""

from collections.abc import Callable

from tenants.models import Tenant

_providers: dict[str, Callable[[Tenant], int]] = {}


def usage_provider(name: str):
    def register(func: Callable[[Tenant], int]):
        _providers[name] = func
        return func

    return register


def tenant_usage(tenant: Tenant) -> dict[str, int]:
    return {name: provider(tenant) for name, provider in sorted(_providers.items())}


@usage_provider("members")
def _members(tenant: Tenant) -> int:
    return tenant.memberships.filter(is_active=True).count()
