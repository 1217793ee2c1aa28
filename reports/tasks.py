"""Thin tasks: take a schema and ids, call a service."""

from celery import shared_task

from core.tasks import TenantScopedTask
from core.tenancy import current_schema
from tenants.selectors import tenant_active_list
from tenants.tasks import TRANSIENT

from . import services


@shared_task(
    base=TenantScopedTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def report_email_send(*, schema_name: str, run_id: str) -> str:
    """E-mail a stored report (retried with backoff while the relay refuses)."""
    tenant = tenant_active_list().filter(schema_name=schema_name).first()
    if tenant is None:
        return "tenant not active"
    return services.report_email(tenant=tenant, run_id=run_id)


def weekly_report_step(*, tenant, period_start, period_end) -> str:
    """The weekly_report job: store the week's report (once), then hand its e-mail to a
    task of its own, so the report is kept whatever happens to the e-mail."""
    run, done = services.weekly_report_generate(period_start=period_start, period_end=period_end)
    if run.emailed_at is None:
        report_email_send.delay(schema_name=current_schema(), run_id=str(run.pk))
        done += "; e-mail queued"
    return done
