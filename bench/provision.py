"""Benchmark: provisioning time as tenants accumulate, and the cost of a routed request.

Prints figures; asserts nothing. Runs in a scratch database `tessera_bench` on the
server of DATABASE_URL (created and dropped here). Run with `make bench`.

    BENCH_TENANTS=60 make bench
"""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set

TENANTS = int(os.environ.get("BENCH_TENANTS", "40"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "500"))
BENCH_DB = "tessera_bench"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_provisioning():
    from django.core.management import call_command
    from django.db import connection

    from tenants.models import Tenant
    from tenants.services import tenant_provision

    started = time.perf_counter()
    call_command("migrate_schemas", "--noinput", "-v", "0")
    print(f"migrate_schemas on an empty database: {ms(time.perf_counter() - started)}")

    samples = []
    for index in range(TENANTS):
        started = time.perf_counter()
        tenant_provision(
            slug=f"bench-{index:03d}",
            name=f"Bench {index}",
            owner_email=f"owner{index}@bench.test",
            owner_password="bench-pass-word-1",
        )
        samples.append(time.perf_counter() - started)
    first, last = samples[:10], samples[-10:]
    print(f"provision_tenant by template clone, {TENANTS} tenants:")
    print(f"  median {ms(statistics.median(samples))}, p95 {ms(sorted(samples)[int(len(samples) * 0.95) - 1])}")
    print(f"  median of first 10 {ms(statistics.median(first))}, of last 10 {ms(statistics.median(last))}")

    # For comparison: a schema built by running every tenant migration instead of cloning.
    migrate_samples = []
    for index in range(3):
        started = time.perf_counter()
        schema = f"bench_migrated_{index}"
        Tenant.objects.create(schema_name=schema, slug=f"bench-migrated-{index}", name="Migrated")
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
        call_command("migrate_schemas", "--tenant", "--schema", schema, "-v", "0")
        migrate_samples.append(time.perf_counter() - started)
    print(f"  same schema by running migrations instead: median {ms(statistics.median(migrate_samples))}")

    # And with django-tenants' own PL/pgSQL clone (pg-clone-schema), at this many tenants.
    from django.db import transaction
    from django_tenants.clone import CloneSchema

    library_samples = []
    for index in range(3):
        with transaction.atomic():
            started = time.perf_counter()
            CloneSchema().clone_schema("_template", f"bench_library_{index}", "DATA", set_connection=False)
            library_samples.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    print(f"  django-tenants' clone_schema instead: median {ms(statistics.median(library_samples))}")


def bench_requests():
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from accounts.tokens import tokens_issue
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug="bench-000")
    user = User.objects.get(email="owner0@bench.test")
    client = Client(
        HTTP_HOST=tenant.primary_host, HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=user, tenant=tenant)['access']}"
    )
    assert client.get("/api/v1/me/").status_code == 200
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get("/api/v1/me/")
        samples.append(time.perf_counter() - started)
    reset_queries()  # the log is a bounded deque: a full one would capture nothing
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/me/")
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]
    print(f"GET /api/v1/me/ on a tenant host (in-process, warm caches), {REQUESTS} requests:")
    print(f"  median {ms(statistics.median(samples))}, {1 / statistics.median(samples):.0f} requests/s on one core")
    print(f"  SQL statements per request besides SET search_path: {len(statements)}")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")  # cheap hasher, run-unique cache keys
    os.environ["DATABASE_URL"] = scratch_database_create(BENCH_DB)
    import django

    django.setup()
    try:
        server = urlsplit(os.environ["DATABASE_URL"]).hostname or "a local socket"
        print(f"machine: {os.cpu_count()} cores; PostgreSQL at {server}")
        bench_provisioning()
        bench_requests()
    finally:
        from django.db import connections

        connections.close_all()
        scratch_database_drop(BENCH_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
