"""Scheduled per-tenant jobs: what each job does, for which period, spread over when.

The schedule itself (when each job starts, UTC) is `CELERY_BEAT_SCHEDULE` in the
settings, one place; beat starts `jobs_fan_out(job=...)` (tenants.tasks), which sends
one `tenant_job_run` per active tenant. This module holds what those two need:

- **The registry.** Each job is a list of steps, contributed by the apps that own the
  work from their `AppConfig.ready()` (as `tenants.usage` is): `weekly_report` by
  reports, `low_stock_alerts` by inventory, `daily_cleanup` by every app with
  something to clean. tenants never names the apps above it.
- **The period.** Every run is for a period (the week, the day, the hour) fixed when
  beat fires, not when the task happens to run, so a re-delivered or re-run task works
  on the same period and the steps' own idempotency (one report per week, one alert
  per crossing) makes the re-run change nothing.
- **The spread.** Tenants are sent with a countdown in [0, window): a stable hash of
  the tenant and the job, so 10,000 tenants do not hit the database in the same second,
  and each tenant runs at about the same minute every time.
- **The stream.** Active tenants are read in keyset batches of schema names, never all
  at once; it also works behind pgbouncer in transaction mode, where server-side
  cursors do not. Provisioning commits a tenant's row, schema and owner in one
  transaction, so a tenant seen by the stream is whole, and one committed after its
  batch was read waits for the next run.
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from audit.services import audit_purge
from core.idempotency import idempotency_records_purge

from .models import TenantStatus
from .selectors import tenant_list

Step = Callable[..., str]


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    period: Callable[[datetime], tuple[datetime, datetime]]


def _week(at: datetime) -> tuple[datetime, datetime]:
    """The seven days that ended at the last midnight on or before `at` that began a
    Sunday (the report runs Sunday 00:00 UTC for Sunday to Saturday)."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    end = midnight - timedelta(days=(midnight.weekday() + 1) % 7)
    return end - timedelta(days=7), end


def _day(at: datetime) -> tuple[datetime, datetime]:
    start = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _hour(at: datetime) -> tuple[datetime, datetime]:
    start = at.replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=1)


JOBS = {
    job.name: job
    for job in (
        Job("weekly_report", "weekly inventory report, stored as a document and e-mailed", _week),
        Job("daily_cleanup", "old drafts, orphan blobs, audit rows past retention, expired keys", _day),
        Job("low_stock_alerts", "one e-mail per product that crossed its reorder level", _hour),
    )
}
_steps: dict[str, dict[str, Step]] = {name: {} for name in JOBS}
_modules: dict[tuple[str, str], str] = {}


def job_step(job: str, name: str, *, module: str | None = None) -> Callable[[Step], Step]:
    """Register `step(*, tenant, period_start, period_end) -> str` (a line saying what
    it did) as part of `job`. Steps run inside the tenant's schema, in name order; a
    step of a `module` is skipped for tenants whose plan does not have it."""

    def register(step: Step) -> Step:
        _steps[job][name] = step
        if module is not None:
            _modules[(job, name)] = module
        return step

    return register


def job_step_module(job: str, name: str) -> str | None:
    return _modules.get((job, name))


def job_steps(job: str) -> list[tuple[str, Step]]:
    return sorted(_steps[job].items())


def job_period(job: str, at: datetime) -> tuple[datetime, datetime]:
    return JOBS[job].period(at)


def job_countdown(job: str, schema_name: str) -> int:
    """Seconds to wait before this tenant's run: stable in [0, the job's window)."""
    window = settings.JOB_SPREAD_SECONDS.get(job, 0)
    if window <= 0:
        return 0
    digest = hashlib.sha256(f"{job}:{schema_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % window


def active_schema_names(batch: int = 500) -> Iterator[str]:
    """Active tenants' schemas in order, read `batch` at a time."""
    last = ""
    while True:
        names = list(
            tenant_list(status=TenantStatus.ACTIVE)
            .filter(schema_name__gt=last)
            .order_by("schema_name")
            .values_list("schema_name", flat=True)[:batch]
        )
        yield from names
        if len(names) < batch:
            return
        last = names[-1]


# Cleanup of what the platform apps below keep in every tenant's schema. The domain
# apps register theirs from their own ready() (inventory: drafts; documents: orphans).
@job_step("daily_cleanup", "audit_retention")
def _audit_retention(*, tenant, period_start, period_end) -> str:
    return f"{audit_purge()} audit event(s) past AUDIT_RETENTION_DAYS removed"


@job_step("daily_cleanup", "idempotency_keys")
def _idempotency_keys(*, tenant, period_start, period_end) -> str:
    return f"{idempotency_records_purge()} expired idempotency key(s) removed"
