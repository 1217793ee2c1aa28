"""Benchmark: what serving without Redis costs (README "Resilience").

An authenticated list (GET /api/v1/products/, 50 rows) on a tenant host, in-process,
with Redis up (routing and auth checks from the cache), then stopped (from PostgreSQL),
then started again. Prints requests/s and SQL statements per request; asserts nothing.
Uses a scratch database `tessera_bench_fallback` on the server of DATABASE_URL and a
redis-server of its own on a free port, both removed at the end.

    make bench ARGS=fallback      # BENCH_REQUESTS=1000 for more samples
"""

import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "500"))
BENCH_DB = "tessera_bench_fallback"


def measure(client, path: str, label: str) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    assert client.get(path).status_code == 200  # warm (or as warm as it gets)
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    statements = [q for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]
    median = statistics.median(samples)
    print(
        f"  {label:<22} {1 / median:7.0f} requests/s   median {median * 1000:5.2f} ms   "
        f"p95 {sorted(samples)[int(len(samples) * 0.95)] * 1000:5.2f} ms   {len(statements)} SQL statements"
    )


def main() -> int:
    warnings.simplefilter("ignore")  # pgserver's and whitenoise's, irrelevant here
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")  # cheap hasher, run-unique keys
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # an access line per request would be measured too
    from testing.outages import RedisServer

    redis = RedisServer()
    redis.start()
    os.environ["REDIS_URL"] = redis.url(0)
    os.environ["CELERY_BROKER_URL"] = redis.url(1)
    os.environ["DATABASE_URL"] = scratch_database_create(BENCH_DB)
    import django

    django.setup()
    try:
        from django.core.management import call_command
        from django.test import Client
        from django_tenants.utils import tenant_context

        from accounts.tokens import tokens_issue
        from inventory.models import Product
        from tenants.services import tenant_provision

        call_command("migrate_schemas", "--noinput", "-v", "0")
        made = tenant_provision(
            slug="bench", name="Bench", owner_email="owner@bench.test", owner_password="bench-password-42"
        )
        with tenant_context(made.tenant):
            Product.objects.bulk_create(Product(sku=f"SKU-{n:03d}", name=f"Product {n}") for n in range(50))
        token = tokens_issue(user=made.owner, tenant=made.tenant)["access"]
        client = Client(HTTP_HOST=made.tenant.primary_host, HTTP_AUTHORIZATION=f"Bearer {token}")

        print(f"In-process, warm, {REQUESTS} requests each, {os.cpu_count()} cores:")
        for path in ("/api/v1/products/", "/api/v1/me/"):
            print(f"GET {path}" + (" (50 rows)" if "products" in path else ""))
            measure(client, path, "Redis up")
            redis.stop()
            measure(client, path, "Redis stopped")
            redis.start()
            measure(client, path, "Redis back (no restart)")
    finally:
        from django.db import connections

        connections.close_all()
        scratch_database_drop(BENCH_DB)
        redis.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
