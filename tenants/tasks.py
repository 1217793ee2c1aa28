"""Tenant jobs. Thin: take a schema name, call a selector or service.

Tasks that touch tenant data take `schema_name`; the base task class
(`core.tasks.TenantAwareTask`) runs them inside that schema and resets the worker's
connection to public before and after, whatever happened.
"""

from celery import shared_task

from core.tenancy import current_schema

from .selectors import tenant_active_list
from .usage import tenant_usage


@shared_task(acks_late=True)
def tenant_usage_report(*, schema_name: str) -> dict:
    """Usage figures of one tenant, computed in its own schema (monitoring, billing)."""
    tenant = tenant_active_list().get(schema_name=schema_name)
    return {"schema": current_schema(), "tenant": tenant.slug, **tenant_usage(tenant)}


def for_each_active_tenant(task, **kwargs) -> list:
    """Fan out: one `task` per active tenant, each told its own schema."""
    return [
        task.delay(schema_name=schema_name, **kwargs)
        for schema_name in tenant_active_list().values_list("schema_name", flat=True)
    ]
