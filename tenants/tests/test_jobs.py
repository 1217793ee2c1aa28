"""Scheduled jobs: periods, spread, the tenant stream, the fan-out and one tenant's run."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.platform.models import PlatformEvent
from core.tasks import MissingTenant
from tenants import jobs
from tenants.models import TenantStatus
from tenants.tasks import jobs_fan_out, tenant_job_run
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "start", "end"),
    [
        ("2026-11-29T00:00:00", "2026-11-22", "2026-11-29"),  # Sunday midnight: the week just ended
        ("2026-11-29T00:00:01", "2026-11-22", "2026-11-29"),
        ("2026-11-28T23:59:59", "2026-11-15", "2026-11-22"),  # Saturday night: still the week before
        ("2026-12-02T10:00:00", "2026-11-22", "2026-11-29"),  # a Wednesday, run by hand
    ],
)
def test_weekly_period_is_the_last_full_sunday_to_saturday(moment, start, end):
    assert jobs.job_period("weekly_report", at(moment)) == (at(start + "T00:00"), at(end + "T00:00"))


def test_daily_and_hourly_periods():
    assert jobs.job_period("daily_cleanup", at("2026-12-03T02:00:07")) == (
        at("2026-12-03T00:00"),
        at("2026-12-04T00:00"),
    )
    assert jobs.job_period("low_stock_alerts", at("2026-12-03T13:00:02")) == (
        at("2026-12-03T13:00"),
        at("2026-12-03T14:00"),
    )


def test_countdown_is_stable_spread_and_within_the_window(settings):
    settings.JOB_SPREAD_SECONDS = {"weekly_report": 3600}
    countdowns = [jobs.job_countdown("weekly_report", f"tenant_{n}") for n in range(2000)]
    assert all(0 <= c < 3600 for c in countdowns)
    assert countdowns == [jobs.job_countdown("weekly_report", f"tenant_{n}") for n in range(2000)]
    # Spread, not bunched: every ten-minute slice of the hour gets a fair share.
    slices = [sum(1 for c in countdowns if s * 600 <= c < (s + 1) * 600) for s in range(6)]
    assert min(slices) > 2000 / 6 * 0.8, slices
    settings.JOB_SPREAD_SECONDS = {}
    assert jobs.job_countdown("weekly_report", "tenant_1") == 0


def test_stream_yields_active_tenants_only_in_batches(tenant_a, tenant_b):
    suspended = TenantFactory(status=TenantStatus.SUSPENDED)
    archived = TenantFactory(status=TenantStatus.ARCHIVED)
    streamed = list(jobs.active_schema_names(batch=1))
    assert tenant_a.schema_name in streamed and tenant_b.schema_name in streamed
    assert suspended.schema_name not in streamed and archived.schema_name not in streamed
    assert streamed == sorted(streamed) and len(streamed) == len(set(streamed))


def test_every_job_has_its_steps():
    assert [name for name, _ in jobs.job_steps("weekly_report")] == ["inventory_report"]
    assert [name for name, _ in jobs.job_steps("low_stock_alerts")] == ["low_stock_alerts"]
    assert [name for name, _ in jobs.job_steps("daily_cleanup")] == [
        "audit_retention",
        "idempotency_keys",
        "orphan_blobs",
        "purchase_request_drafts",
    ]


def test_fan_out_sends_one_run_per_active_tenant_for_the_period(tenant_a, tenant_b, monkeypatch):
    TenantFactory(status=TenantStatus.SUSPENDED)
    sent = []
    monkeypatch.setattr(tenant_job_run, "apply_async", lambda kwargs, countdown: sent.append((kwargs, countdown)))
    count = jobs_fan_out(job="daily_cleanup", at="2026-12-03T02:00:00+00:00")
    assert count == len(sent) == len(list(jobs.active_schema_names()))
    assert {kwargs["schema_name"] for kwargs, _ in sent} >= {tenant_a.schema_name, tenant_b.schema_name}
    assert {(kwargs["period_start"], kwargs["period_end"]) for kwargs, _ in sent} == {
        ("2026-12-03T00:00:00+00:00", "2026-12-04T00:00:00+00:00")
    }


def test_a_tenant_run_without_a_tenant_refuses_to_run():
    period = {"period_start": "2026-12-03T00:00:00+00:00", "period_end": "2026-12-04T00:00:00+00:00"}
    with pytest.raises(MissingTenant):
        tenant_job_run.apply(kwargs={"job": "daily_cleanup", "schema_name": "", **period}, throw=True)
    with pytest.raises(MissingTenant):
        tenant_job_run.apply(kwargs={"job": "daily_cleanup", "schema_name": "public", **period}, throw=True)
    assert connection.schema_name == "public"


def test_a_tenant_suspended_after_the_fan_out_is_skipped():
    tenant = TenantFactory(status=TenantStatus.SUSPENDED)
    period = {"period_start": "2026-12-03T00:00:00+00:00", "period_end": "2026-12-04T00:00:00+00:00"}
    result = tenant_job_run.apply(kwargs={"job": "daily_cleanup", "schema_name": tenant.schema_name, **period})
    assert result.get() == [] and connection.schema_name == "public"


def test_a_failed_run_lands_in_the_platform_log(tenant_a, monkeypatch):
    def broken(**kwargs):
        raise ValueError("the disk is full")

    monkeypatch.setitem(jobs._steps["daily_cleanup"], "zz_broken", broken)
    period = {"period_start": "2026-12-03T00:00:00+00:00", "period_end": "2026-12-04T00:00:00+00:00"}
    result = tenant_job_run.apply(kwargs={"job": "daily_cleanup", "schema_name": tenant_a.schema_name, **period})
    assert result.failed() and connection.schema_name == "public"
    # (Other modules' real workers may have recorded failures of their own, committed.)
    event = PlatformEvent.objects.get(action="job.failed", changes__tenant=tenant_a.schema_name)
    assert event.object_id == "daily_cleanup" and event.changes["tenant"] == tenant_a.schema_name
    assert "the disk is full" in event.changes["error"]


def test_commands_queue_by_default_and_run_here_with_sync(tenant_a, monkeypatch):
    queued = []
    monkeypatch.setattr(tenant_job_run, "apply_async", lambda kwargs: queued.append(kwargs))
    out = StringIO()
    call_command("run_daily_cleanup", "--tenant", tenant_a.slug, "--at", "2026-12-03T05:00", stdout=out)
    assert queued[0]["schema_name"] == tenant_a.schema_name and queued[0]["period_start"].startswith("2026-12-03")
    assert f"{tenant_a.slug}: queued daily_cleanup for 2026-12-03 00:00..2026-12-04 00:00 UTC" in out.getvalue()

    out = StringIO()
    call_command("run_daily_cleanup", "--tenant", tenant_a.slug, "--sync", stdout=out)
    line = out.getvalue()
    for step in ("audit_retention", "idempotency_keys", "orphan_blobs", "purchase_request_drafts"):
        assert f"{step}: " in line
    assert connection.schema_name == "public"


def test_commands_refuse_unknown_and_inactive_tenants():
    with pytest.raises(CommandError, match='No tenant with slug "nope"'):
        call_command("send_weekly_reports", "--tenant", "nope")
    suspended = TenantFactory(status=TenantStatus.SUSPENDED)
    with pytest.raises(CommandError, match="is suspended"):
        call_command("send_low_stock_alerts", "--tenant", suspended.slug, "--sync")
