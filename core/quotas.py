"""Quotas, enforced where the write happens and race-free.

`quota_reserve(name, used=..., adding=...)` is called by a service inside its
transaction, before it writes: it takes a transaction-scoped advisory lock on
(tenant, quota), so concurrent creates in one tenant queue there; counts what is used
(after the lock, so it sees the others' committed rows); and refuses with
`403 {"code": "quota_exceeded", "quota", "limit", "used"}` past the limit, before
anything is written. The lock is released by the commit or rollback.

The limits come from a provider the plans app registers (kernel code never names an
app above it); with none registered, or none for the tenant, there is no limit.
"""

import hashlib
from collections.abc import Callable

from django.db import connection
from django_tenants.utils import get_tenant_model

from core.errors import Forbidden

_limit_provider: Callable[[object, str], int | None] | None = None


class QuotaExceeded(Forbidden):
    code = "quota_exceeded"

    def __init__(self, quota: str, *, limit: int, used: int):
        super().__init__(
            f"This tenant's plan allows {limit} for {quota}; {used} are used. Nothing was changed.",
            quota=quota,
            limit=limit,
            used=used,
        )


def quota_limit_provider(provider: Callable[[object, str], int | None]) -> Callable[[object, str], int | None]:
    global _limit_provider
    _limit_provider = provider
    return provider


def _key(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big", signed=True)


def quota_reserve(name: str, *, used: Callable[[], int], adding: int = 1, tenant=None) -> None:
    """Refuse `adding` more of `name` past the tenant's limit (the current tenant by
    default). Must run inside the transaction that then writes."""
    tenant = tenant if tenant is not None else getattr(connection, "tenant", None)
    if tenant is None or getattr(tenant, "schema_name", "public") == "public" or _limit_provider is None:
        return
    if getattr(tenant, "pk", None) is None:
        # schema_context (tasks, commands) puts a stand-in on the connection, not the row.
        tenant = get_tenant_model().objects.filter(schema_name=tenant.schema_name).first()
        if tenant is None:
            return
    limit = _limit_provider(tenant, name)
    if limit is None:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("quota_reserve runs inside the transaction that writes (a service's atomic block).")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_key(f"quota:{name}"), _key(str(tenant.pk))])
    current = used()
    if current + adding > limit:
        raise QuotaExceeded(name, limit=limit, used=current)
