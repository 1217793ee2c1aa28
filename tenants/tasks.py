"""Tenant jobs. Thin: take a schema name, call a selector or service.

Tasks that touch tenant data take `schema_name`; the base task class
(`core.tasks.TenantAwareTask`) runs them inside that schema and resets the worker's
connection to public before and after, whatever happened.
"""

import logging
import time
from datetime import datetime
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.tasks import flush_expired_tokens
from audit.services import audit_purge, audit_record
from core.idempotency import idempotency_records_purge
from core.tasks import TenantScopedTask
from core.tenancy import current_schema
from plans.services import entitlements

from .jobs import active_schema_names, job_countdown, job_period, job_step_module, job_steps
from .selectors import tenant_active_get, tenant_active_list
from .spares import spares_top_up as spares_clone
from .usage import tenant_usage


@shared_task(acks_late=True)
def spares_top_up() -> int:
    """Clone spare schemas until SPARE_SCHEMAS are ready (tenants.spares): after each
    claim, and from beat."""
    return spares_clone()


@shared_task(acks_late=True)
def tenant_usage_report(*, schema_name: str) -> dict:
    """Usage figures of one tenant, computed in its own schema (monitoring, billing)."""
    tenant = tenant_active_list().get(schema_name=schema_name)
    return {"schema": current_schema(), "tenant": tenant.slug, **tenant_usage(tenant)}


def for_each_active_tenant(task, **kwargs) -> list:
    """Fan out: one `task` per active tenant, each told its own schema."""
    return [task.delay(schema_name=schema_name, **kwargs) for schema_name in active_schema_names()]


# --- scheduled jobs (tenants.jobs) ---------------------------------------------------

log = logging.getLogger("tessera.jobs")

# Worth another try: the database or broker hiccuped, the mail relay refused for now.
TRANSIENT = (
    DatabaseOperationalError,
    InterfaceError,
    KombuOperationalError,
    SMTPException,
    ConnectionError,
    TimeoutError,
)


# A job's follow-up e-mail, in one tenant: retried with backoff while the relay refuses
# (for up to a few hours), never lost with its worker. `@shared_task(**MAIL_TASK)`.
def task_tenant(schema_name: str, *, module: str | None = None):
    """The tenant a task of `module` works for, or (None, why it does nothing): the
    tenant is not active, or its plan no longer has the module (a task queued before an
    operator took the module away does nothing, as the module's endpoints answer 403)."""
    tenant = tenant_active_get(schema_name=schema_name)
    if tenant is None:
        return None, "tenant not active"
    if module is not None and not entitlements(tenant).has_module(module):
        return None, f"skipped: no {module} module in the plan"
    return tenant, ""


MAIL_TASK = {
    "base": TenantScopedTask,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(acks_late=True)
def platform_cleanup() -> dict:
    """The daily cleanup of the public schema: expired and blacklisted refresh tokens,
    expired password-reset tokens, platform events past retention, expired keys."""
    flush_expired_tokens()
    return {
        "platform_events": audit_purge(),
        "idempotency_keys": idempotency_records_purge(),
    }


@shared_task(acks_late=True)
def jobs_fan_out(*, job: str, at: str | None = None) -> int:
    """Beat's entry for `job`: one `tenant_job_run` per active tenant, for the period
    that contains `at` (now by default), each after its own countdown in the job's
    window. Returns how many were sent."""
    moment = datetime.fromisoformat(at) if at else timezone.now()
    start, end = job_period(job, moment)
    started, sent = time.monotonic(), 0
    for schema_name in active_schema_names():
        tenant_job_run.apply_async(
            kwargs={
                "job": job,
                "schema_name": schema_name,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
            },
            countdown=job_countdown(job, schema_name),
        )
        sent += 1
    log.info(
        "fan-out %s: %d tenants for %s..%s in %.0f ms",
        job,
        sent,
        start.isoformat(),
        end.isoformat(),
        (time.monotonic() - started) * 1000,
        extra={"job": job, "tenants": sent},
    )
    return sent


class TenantJobTask(TenantScopedTask):
    """A job's run in one tenant: retried with backoff on transient errors; a failure
    that is not retried, or outlives its retries, is recorded in the platform log."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        audit_record(
            action="job.failed",
            platform=True,
            object_type="job",
            object_id=str(kwargs.get("job", "")),
            changes={
                "tenant": kwargs.get("schema_name"),
                "period_start": kwargs.get("period_start"),
                "error": f"{exc.__class__.__name__}: {exc}"[:500],
            },
        )


@shared_task(
    base=TenantJobTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=settings.JOB_SOFT_TIME_LIMIT,
    time_limit=settings.JOB_SOFT_TIME_LIMIT + 60,
)
def tenant_job_run(self, *, job: str, schema_name: str, period_start: str, period_end: str) -> list[str]:
    """Run `job`'s steps in this tenant (the base class has put us in its schema).
    A tenant suspended or archived since the fan-out is skipped."""
    tenant = tenant_active_get(schema_name=schema_name)
    if tenant is None:
        log.info("job %s skipped for %s: not active", job, schema_name, extra={"job": job, "tenant": schema_name})
        return []
    start, end = datetime.fromisoformat(period_start), datetime.fromisoformat(period_end)
    started, done = time.monotonic(), []
    modules = entitlements(tenant).modules
    try:
        for name, step in job_steps(job):
            module = job_step_module(job, name)
            if module is not None and module not in modules:
                done.append(f"{name}: skipped (no {module} module in the plan)")
                continue
            done.append(f"{name}: {step(tenant=tenant, period_start=start, period_end=end)}")
    finally:
        outcome = "ok" if len(done) == len(job_steps(job)) else "failed"
        log.info(
            "job %s for %s (%s..%s) %s in %.0f ms: %s",
            job,
            tenant.slug,
            period_start,
            period_end,
            outcome,
            (time.monotonic() - started) * 1000,
            "; ".join(done) or "nothing done",
            extra={"job": job, "tenant": tenant.slug, "outcome": outcome},
        )
    return done
