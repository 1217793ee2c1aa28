"""Benchmark: `migrate_schemas` across many tenants, with the migration ledger.

Prints figures; asserts nothing. Runs in a scratch database `tessera_bench_migrations`
on the server of DATABASE_URL (created and dropped here), with BENCH_MIGRATION_TENANTS
tenants (default 300; provisioning them takes most of the time).

- no-op: every schema current; the ledger answers for all of them in one query;
- --check: the same question, asked by operators and deploy scripts;
- ledger lost: every ledger row deleted (as for a schema the ledger never knew); each
  schema is asked for its django_migrations (one query) and recorded, in parallel;
- one schema behind: a migration record removed from one schema, so `migrate` runs
  there (and only there).

    make bench ARGS=migrations        BENCH_MIGRATION_TENANTS=1000
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set

TENANTS = int(os.environ.get("BENCH_MIGRATION_TENANTS", "300"))
DATABASE = "tessera_bench_migrations"


def timed(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    url = scratch_database_create(DATABASE)
    os.environ.update(DATABASE_URL=url, LOG_LEVEL="WARNING")
    try:
        timed("migrate_schemas", "--noinput")
        script = (
            "from tenants.services import tenant_provision\n"
            f"for n in range({TENANTS}):\n"
            "    tenant_provision(slug=f'mig{n:05d}', name=f'M{n}', owner_email='o@mig.test', "
            "owner_password='a-long-password-1')\n"
        )
        started = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, check=True, capture_output=True)
        print(
            f"machine: {os.cpu_count()} cores; {TENANTS} tenants provisioned in {time.perf_counter() - started:.0f} s"
        )
        noop = sorted(timed("migrate_schemas", "--noinput") for _ in range(3))[1]
        print(f"no-op migrate_schemas (public + {TENANTS} tenants, ledger): {noop:.1f} s (median of 3)")
        print(f"migrate_schemas --check: {timed('migrate_schemas', '--check'):.1f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM tenants_schemaledger")
        lost = timed("migrate_schemas", "--noinput", "--tenant")
        each = lost / (TENANTS + 1) * 1000
        print(f"ledger lost, every schema asked and recorded: {lost:.1f} s ({each:.0f} ms a schema)")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM tenants_schemaledger WHERE schema_name = 'mig00000'")
            conn.execute("DELETE FROM mig00000.django_migrations WHERE app = 'reports'")
            conn.execute("DROP TABLE mig00000.reports_reportrun")
        behind = timed("migrate_schemas", "--noinput", "--tenant")
        print(f"one schema behind (reports migrated again there): {behind:.1f} s")
    finally:
        scratch_database_drop(DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
