"""Benchmark: the scheduled jobs' fan-out and the weekly report, as tenants accumulate.

Prints figures; asserts nothing. A scratch database `tessera_bench_jobs` (created and
dropped here) and a scratch Redis queue (purged after). Tenants are provisioned up to
each size in BENCH_JOB_TENANTS, each with a few products and stock levels; at each size:

- the fan-out's time to stream the active tenants and enqueue one run each (the tasks
  are not executed; the queue is purged);
- the weekly report's time per tenant, built and stored inline in a sample of tenants.

    make bench ARGS=jobs          BENCH_JOB_TENANTS=100,1000 BENCH_JOB_SAMPLE=20
"""

import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set

SIZES = [int(n) for n in os.environ.get("BENCH_JOB_TENANTS", "100,1000").split(",")]
SAMPLE = int(os.environ.get("BENCH_JOB_SAMPLE", "20"))
DATABASE = "tessera_bench_jobs"
QUEUE = f"bench-jobs-{secrets.token_hex(4)}"


def main() -> int:
    url = scratch_database_create(DATABASE)
    media = tempfile.mkdtemp(prefix="tessera-bench-media-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=url,
        MEDIA_ROOT=media,
        LOG_LEVEL="WARNING",
        CACHE_KEY_PREFIX=f"bench-{secrets.token_hex(4)}",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from config.celery import app
    from inventory.models import Product, StockLevel, Warehouse
    from reports.services import weekly_report_generate
    from tenants.services import tenant_provision
    from tenants.tasks import jobs_fan_out

    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    app.conf.task_default_queue = QUEUE
    try:
        call_command("migrate_schemas", "--noinput", "-v", "0")
        tenants = []
        week = (datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC))
        print(f"machine: {os.cpu_count()} cores; PostgreSQL and Redis on loopback; queue {QUEUE}")
        print(f"{'tenants':>8} {'fan-out enqueue':>16} {'per tenant':>11} {'report, median':>15} {'p90':>8}")
        for size in SIZES:
            while len(tenants) < size:
                n = len(tenants)
                tenant = tenant_provision(
                    slug=f"bench-{n:04d}", name=f"Bench {n}", owner_email="owner@bench.test", owner_password="x" * 12
                ).tenant
                with tenant_context(tenant):
                    warehouse = Warehouse.objects.create(code="MAIN", name="Main")
                    for i in range(20):
                        product = Product.objects.create(sku=f"P-{i:03d}", name=f"Product {i}", reorder_level=5)
                        StockLevel.objects.create(product=product, warehouse=warehouse, quantity=Decimal(i))
                tenants.append(tenant)
            started = time.perf_counter()
            sent = jobs_fan_out(job="weekly_report")
            enqueue = time.perf_counter() - started
            with app.connection_for_write() as connection:
                connection.default_channel.queue_purge(QUEUE)
            samples = []
            for tenant in tenants[-SAMPLE:]:
                with tenant_context(tenant):
                    started = time.perf_counter()
                    weekly_report_generate(period_start=week[0], period_end=week[1])
                    samples.append(time.perf_counter() - started)
            samples.sort()
            print(
                f"{sent:>8} {enqueue * 1000:>13.0f} ms {enqueue / sent * 1000:>8.2f} ms "
                f"{statistics.median(samples) * 1000:>12.1f} ms {samples[int(len(samples) * 0.9)] * 1000:>5.1f} ms"
            )
            week = (week[1], datetime.fromtimestamp(week[1].timestamp() + 7 * 86400, tz=UTC))
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(media, ignore_errors=True)
        scratch_database_drop(DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
