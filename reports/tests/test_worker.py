"""Scheduled jobs on real Celery workers and the real Redis broker.

Two committed tenants of this module's own (dropped afterwards), each with products
of its own. Each report is built in its tenant's schema only; and a worker killed
(SIGKILL, whole process group) in the middle of a report loses nothing and duplicates
nothing: the task is delivered again to the next worker, which completes it once.
WORKER_LOG=<path> keeps the workers' logs there, for when a run times out.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections
from django_tenants.utils import tenant_context

from documents.models import Document
from documents.storage import blob_path, blob_storage
from inventory.tests.factories import ProductFactory, StockLevelFactory, WarehouseFactory
from reports.models import ReportRun
from tenants.services import tenant_delete, tenant_provision
from tenants.tasks import tenant_job_run
from testing.helpers import PASSWORD
from testing.processes import ROOT, child_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
PERIOD = {"period_start": "2026-11-22T00:00:00+00:00", "period_end": "2026-11-29T00:00:00+00:00"}
NEXT_PERIOD = {"period_start": "2026-11-29T00:00:00+00:00", "period_end": "2026-12-06T00:00:00+00:00"}


@pytest.fixture(scope="module")
def two_tenants(platform, django_db_blocker):
    made = []
    with django_db_blocker.unblock():
        for slug in ("kappa", "sigma"):
            tenant = tenant_provision(
                slug=slug, name=slug.title(), owner_email=f"owner@{slug}.test", owner_password=PASSWORD
            ).tenant
            with tenant_context(tenant):
                product = ProductFactory(sku=f"{slug.upper()}-ONLY", reorder_level=Decimal("1"))
                StockLevelFactory(product=product, warehouse=WarehouseFactory(code="MAIN"), quantity=Decimal("3"))
            made.append(tenant)
        yield made
        connections.close_all()
        for tenant in made:
            tenant_delete(tenant=tenant, drop_schema=True)


def start_worker(*extra: str, **env: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING"]
    command += ["-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle", *extra]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=child_env(CELERY_VISIBILITY_TIMEOUT="3", **env),
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("WORKER_LOG", os.devnull), "ab"),
        start_new_session=True,  # its own process group, so the pool's children die with it
    )


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    os.killpg(worker.pid, sig)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def wait_for(condition, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError("timed out")


def report_of(tenant, period: dict):
    """(content, runs, documents) of the tenant's report for `period`, once stored and
    e-mailed; None before."""
    start = datetime.fromisoformat(period["period_start"])
    with tenant_context(tenant):
        runs = ReportRun.objects.filter(period_start=start)
        run = runs.first()
        if run is None or run.document_id is None or run.emailed_at is None:
            return None
        document = Document.objects.select_related("blob").get(pk=run.document_id)
        with blob_storage().open(blob_path(document.blob.sha256, tenant.schema_name), "rb") as stored:
            documents = Document.objects.filter(name=document.name).count()
            return stored.read().decode(), runs.count(), documents


def test_each_tenant_report_is_built_in_its_own_schema(two_tenants):
    worker = start_worker("--pool=solo")
    try:
        # Given no tenant, the run refuses (fails closed) rather than work in public.
        orphan = tenant_job_run.apply_async(kwargs={"job": "weekly_report", "schema_name": "", **PERIOD})
        orphan.get(timeout=30, propagate=False)
        assert orphan.state == "FAILURE" and "MissingTenant" in repr(orphan.result)
        for tenant in two_tenants:
            tenant_job_run.apply_async(kwargs={"job": "weekly_report", "schema_name": tenant.schema_name, **PERIOD})
        for tenant, other in (two_tenants, reversed(two_tenants)):
            content, runs, documents = wait_for(lambda tenant=tenant: report_of(tenant, PERIOD))
            assert f"{tenant.slug.upper()}-ONLY" in content and f"{other.slug.upper()}-ONLY" not in content
            assert (runs, documents) == (1, 1)
    finally:
        stop(worker)


def test_a_worker_killed_mid_report_loses_and_duplicates_nothing(two_tenants, tmp_path):
    tenant = two_tenants[0]
    marker = tmp_path / "in-report"
    doomed = start_worker(
        "--pool=prefork",
        "--concurrency=1",
        "-I",
        "testing.slow_report",
        SLOW_REPORT_MARKER=str(marker),
        SLOW_REPORT_SECONDS="120",
    )
    rescuer = None
    try:
        tenant_job_run.apply_async(kwargs={"job": "weekly_report", "schema_name": tenant.schema_name, **NEXT_PERIOD})
        wait_for(marker.exists)  # the report's transaction is open, its ReportRun row locked
        stop(doomed, signal.SIGKILL)
        with tenant_context(tenant):  # the killed transaction left nothing
            assert not ReportRun.objects.filter(
                period_start=datetime.fromisoformat(NEXT_PERIOD["period_start"])
            ).exists()
        rescuer = start_worker("--pool=solo")
        content, runs, documents = wait_for(lambda: report_of(tenant, NEXT_PERIOD), timeout=90)
        assert f"{tenant.slug.upper()}-ONLY" in content and (runs, documents) == (1, 1)
    finally:
        if doomed.poll() is None:
            stop(doomed, signal.SIGKILL)
        if rescuer is not None:
            stop(rescuer)
