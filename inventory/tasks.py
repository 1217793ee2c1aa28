"""Inventory's tasks and its steps in tenants' scheduled jobs. Thin: call a service."""

from celery import shared_task

from core.tenancy import current_schema
from tenants.tasks import MAIL_TASK, task_tenant

from . import jobs


@shared_task(**MAIL_TASK)
def low_stock_alert_send(*, schema_name: str, alert_id: str) -> str:
    """E-mail one low-stock alert (retried with backoff while the relay refuses)."""
    tenant, skipped = task_tenant(schema_name, module="inventory")
    if tenant is None:
        return skipped
    return jobs.low_stock_alert_email(tenant=tenant, alert_id=alert_id)


def low_stock_alerts_step(*, tenant, period_start, period_end) -> str:
    """The low_stock_alerts job: open and close alerts, then queue one e-mail per alert
    not yet sent (this hour's, and any whose earlier send never succeeded)."""
    opened, closed = jobs.low_stock_alerts_update()
    unsent = jobs.low_stock_alerts_unsent()
    for alert_id in unsent:
        low_stock_alert_send.delay(schema_name=current_schema(), alert_id=alert_id)
    return f"{opened} crossed, {closed} recovered, {len(unsent)} e-mail(s) queued"


def drafts_cleanup_step(*, tenant, period_start, period_end) -> str:
    return f"{jobs.purchase_request_drafts_purge(now=period_end)} stale draft(s) removed"
