"""Thin tasks: take a schema and ids, call a service."""

from celery import shared_task

from core.tenancy import current_schema
from tenants.tasks import MAIL_TASK, task_tenant

from . import services


@shared_task(**MAIL_TASK)
def report_email_send(*, schema_name: str, run_id: str) -> str:
    """E-mail a stored report (retried with backoff while the relay refuses)."""
    tenant, skipped = task_tenant(schema_name, module="reports")
    if tenant is None:
        return skipped
    return services.report_email(tenant=tenant, run_id=run_id)


def weekly_report_step(*, tenant, period_start, period_end) -> str:
    """The weekly_report job: store the week's report (once), then hand its e-mail to a
    task of its own, so the report is kept whatever happens to the e-mail."""
    run, done = services.weekly_report_generate(period_start=period_start, period_end=period_end)
    if run.emailed_at is None:
        report_email_send.delay(schema_name=current_schema(), run_id=str(run.pk))
        done += "; e-mail queued"
    return done
