"""Dispatch and delivery of events. Thin: take a schema name, call a service.

`events_dispatch_due` (beat, every EVENTS_DISPATCH_SECONDS) reads the public queue of
tenants with work due and sends one `events_dispatch` each; a commit that recorded an
event sends its tenant's at once. `events_dispatch` positions and fans out the
tenant's events and sends one `webhook_deliver` per endpoint with a delivery due.
"""

from celery import shared_task

from core.tasks import TenantScopedTask
from plans.services import entitlements
from tenants.selectors import tenant_active_get

from . import services

MODULE = "webhooks"


def _deliverable(schema_name: str):
    """The tenant, if it is active and its plan has webhooks; else None (skipped)."""
    tenant = tenant_active_get(schema_name=schema_name)
    return tenant if tenant is not None and MODULE in entitlements(tenant).modules else None


@shared_task(acks_late=True, ignore_result=True)
def events_dispatch_due() -> int:
    schemas = services.pending_dispatch_claim()
    for schema_name in schemas:
        events_dispatch.apply_async(kwargs={"schema_name": schema_name}, ignore_result=True)
    return len(schemas)


@shared_task(base=TenantScopedTask, acks_late=True, ignore_result=True)
def events_dispatch(*, schema_name: str) -> list[str]:
    tenant = _deliverable(schema_name)
    due = services.events_dispatch(schema_name=schema_name, deliver=tenant is not None)
    # One endpoint's deliveries here (no second task's overhead for the usual tenant
    # with one endpoint), the others' in tasks of their own, in parallel.
    for endpoint_id in due[1:]:
        webhook_deliver.apply_async(kwargs={"schema_name": schema_name, "endpoint_id": endpoint_id}, ignore_result=True)
    if due and tenant is not None:
        services.endpoint_deliver(endpoint_id=due[0], tenant=tenant)
    return due


@shared_task(base=TenantScopedTask, acks_late=True, ignore_result=True)
def webhook_deliver(*, schema_name: str, endpoint_id: str) -> str:
    tenant = _deliverable(schema_name)
    if tenant is None:
        return "skipped: tenant not active or without the webhooks module"
    return services.endpoint_deliver(endpoint_id=endpoint_id, tenant=tenant)
