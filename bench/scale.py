"""Benchmark: Tessera at 10 and at BENCH_SCALE_TENANTS tenants (default 1,000; the figures
in docs/scaling.md are from 10,000).

Prints figures; asserts nothing. In a scratch database `tessera_bench_scale` (created
and dropped here), with gunicorn (2 sync workers, production settings) serving it:

- provisioning for an existing owner, every tenant timed, with a spare schema ready
  (tenants.spares: after each claim the pool is topped up, as the worker does, and
  that clone is timed apart); "ready": from the call until the new host answers 200
  over HTTP, for the first 20 and the last 20 tenants (and one in 500 between); the
  medians per thousand show whether either slows as the catalog grows;
- at 10 tenants and again at the end: request latency (wrk -t2 -c16, 10 s, the
  product list of 50 of the first tenant), catalog size, `pg_dump` of one tenant,
  no-op `migrate_schemas`; at the end only, a one-column migration across every tenant
  (bench.baseline.onecolumn);
- at the end, the latency side by side: the same list on a second scratch database
  of 10 tenants (`tessera_bench_scale_small`, its own gunicorn), the two taking turns
  for 3 rounds, so that the ratio does not carry the machine's drift over the run;
- memory of one PostgreSQL connection after it touched 1, 10, ... schemas.

    make bench ARGS=scale                     BENCH_SCALE_TENANTS=10000
                                              (about 70 minutes on 2 cores, the one-column
                                              migration's 23 included;
                                              BENCH_SCALE_ONECOLUMN=0 skips it)
    make bench ARGS=scale                     (1,000 tenants: about ten minutes)

BENCH_KEEP=1 leaves the database (and prints how to drop it); BENCH_SCALE_REUSE=1 then
measures a kept database again without provisioning it (the figures "at N tenants" only).
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import database_url, scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set
from testing.processes import free_port  # noqa: E402

DATABASE = "tessera_bench_scale"
SMALL = "tessera_bench_scale_small"
TENANTS = int(os.environ.get("BENCH_SCALE_TENANTS", "1000"))
SAMPLED = 20
# At 10,000 tenants the one-column migration ran for 23 minutes on 2 cores: 0 skips it.
ONECOLUMN = os.environ.get("BENCH_SCALE_ONECOLUMN", "1") != "0"
KEEP = os.environ.get("BENCH_KEEP", "") not in ("", "0")
REUSE = os.environ.get("BENCH_SCALE_REUSE", "") not in ("", "0")
GUNICORN = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def setup_env(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="bench-secret-key-" + "x" * 40,
        SECURE_SSL_REDIRECT="false",
        JWT_ACCESS_MINUTES="600",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )


def manage(*args: str, settings: str = "config.settings.production") -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings},
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def get(port: int, host: str, path: str = "/api/v1/") -> int:
    """The status of an anonymous GET: the API root answers 200 on a routed tenant host
    (0 while the server is not listening yet)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0


def wrk_latency(port: int, host: str, token: str, folder: Path) -> tuple[float, float, float]:
    """(median latency ms, p99 latency ms, requests/s) of the product list."""
    script = folder / "one.lua"
    script.write_text(f'wrk.headers["Host"] = "{host}"\nwrk.headers["Authorization"] = "Bearer {token}"\n')
    url = f"http://127.0.0.1:{port}/api/v1/products/"
    subprocess.run(["wrk", "-t2", "-c16", "-d3s", "-s", str(script), url], check=True, capture_output=True)
    out = subprocess.run(
        ["wrk", "-t2", "-c16", "-d10s", "--latency", "-s", str(script), url], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failures:\n{out}")

    def millis(text: str) -> float:
        for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor
        return float(text)

    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    rate = float(lines["Requests/sec:"][1])
    return millis(lines["50%"][1]), millis(lines["99%"][1]), rate


def side_by_side(port: int, first, token: str, folder: Path) -> None:
    """The list's latency here and on a 10-tenant database, taking turns (3 rounds)."""
    env = {**os.environ, "DATABASE_URL": scratch_database_create(SMALL), "CACHE_KEY_PREFIX": "bench-scale-small"}
    server = None
    try:
        populate = f"from bench.baseline.setup import populate; populate(10, {str(folder / 'small.json')!r})"
        for command in (["migrate_schemas", "--noinput"], ["shell", "-c", populate]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
        small = json.loads((folder / "small.json").read_text())["tenants"][0]
        small_port = free_port()
        server = subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{small_port}", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while get(small_port, small["host"]) != 200:
            time.sleep(0.1)
        big, little = [], []
        for _ in range(3):
            big.append(wrk_latency(port, first.primary_host, token, folder))
            little.append(wrk_latency(small_port, small["host"], small["token"], folder))
        p50_big, p50_small = statistics.median(r[0] for r in big), statistics.median(r[0] for r in little)
        rate_big, rate_small = statistics.median(r[2] for r in big), statistics.median(r[2] for r in little)
        print(
            f"  side by side, 3 rounds each: p50 {p50_big:.1f} ms here against {p50_small:.1f} ms at 10 tenants"
            f" ({p50_big / p50_small:.2f}x); {rate_big:.0f} against {rate_small:.0f} requests/s"
        )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=40)
        scratch_database_drop(SMALL)


def catalog(url: str) -> str:
    with psycopg.connect(url) as conn:
        relations, database, catalog_bytes = conn.execute(
            "SELECT (SELECT count(*) FROM pg_class), pg_database_size(current_database()),"
            " (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            "  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog')"
        ).fetchone()
    return f"{relations:,} relations, catalog {catalog_bytes / 2**20:.0f} MiB, database {database / 2**20:.0f} MiB"


def dump_one(url: str, schema: str, folder: Path) -> str:
    parts = urlsplit(url)
    started = time.perf_counter()
    target = folder / "one.dump"
    host, port, user = parts.hostname or "127.0.0.1", str(parts.port or 5432), parts.username or "postgres"
    subprocess.run(
        ["pg_dump", "-h", host, "-p", port, "-U", user, "-n", schema, "-Fc", "-f", str(target), DATABASE],
        check=True,
        capture_output=True,
    )
    return f"{time.perf_counter() - started:.1f} s, {target.stat().st_size / 1024:.0f} KiB"


def connection_memory(url: str, schemas: list[str]) -> list[str]:
    """A fresh connection's own memory after it read a table in 1, 10, 100... schemas."""
    rows = []
    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        touched = 0
        for count in (1, 10, 100, 1000, 10000):
            if count > len(schemas):
                break
            for schema in schemas[touched:count]:
                conn.execute(f'SELECT count(*) FROM "{schema}".inventory_product')
            touched = count
            contexts = conn.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts").fetchone()[0]
            status = Path(f"/proc/{pid}/status")
            rss = (
                next(
                    (int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("RssAnon:")), 0
                )
                if status.exists()
                else 0
            )
            rows.append(
                f"{count:>6} schemas: {contexts / 2**20:6.1f} MiB in memory contexts, RssAnon {rss / 1024:.0f} MiB"
            )
    return rows


def at(label: str, url: str, port: int, first, token: str, folder: Path, schemas: list[str]) -> None:
    print(f"-- at {label}")
    p50, p99, rate = wrk_latency(port, first.primary_host, token, folder)
    print(f"  product list of 50 (one tenant): p50 {p50:.1f} ms, p99 {p99:.1f} ms, {rate:.0f} requests/s")
    print(f"  catalog: {catalog(url)}")
    print(f"  pg_dump -n of one tenant: {dump_one(url, first.schema_name, folder)}")
    noop = sorted(manage("migrate_schemas", "--noinput") for _ in range(3))[1]
    print(f"  migrate_schemas with nothing to do: {noop:.1f} s (median of 3)")
    if label != "10 tenants":
        side_by_side(port, first, token, folder)
    if label != "10 tenants" and ONECOLUMN:
        forward = manage("migrate_schemas", "--noinput", settings="bench.baseline.settings_onecolumn")
        print(f"  one-column migration across every tenant schema: {forward:.1f} s")
    for line in connection_memory(url, schemas):
        print(f"  one connection, {line}")


def remeasure(url: str, port: int, folder: Path) -> int:
    """The figures "at N tenants" of a database an earlier run kept (BENCH_KEEP)."""
    from accounts.tokens import tokens_issue
    from tenants.models import Tenant

    tenants = Tenant.objects.exclude(schema_name="public").order_by("slug")
    first = tenants.first()
    if first is None:
        raise SystemExit(f"{DATABASE} holds no tenant: run without BENCH_SCALE_REUSE first")
    owner = first.memberships.get(role="owner").user
    token = tokens_issue(user=owner, tenant=first)["access"]
    while get(port, first.primary_host) != 200:
        time.sleep(0.05)
    schemas = list(tenants.values_list("schema_name", flat=True))
    print(f"machine: {os.cpu_count()} cores; a kept database of {len(schemas)} tenants")
    at(f"{len(schemas)} tenants", url, port, first, token, folder, schemas)
    return 0


def main() -> int:
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install -y wrk): skipped")
        return 0
    url = database_url(DATABASE) if REUSE else scratch_database_create(DATABASE)
    setup_env(url)
    folder = Path(tempfile.mkdtemp(prefix="tessera-bench-scale-"))
    server = None
    try:
        if not REUSE:
            manage("migrate_schemas", "--noinput")
        import django

        django.setup()
        from django.contrib.auth.hashers import make_password
        from django.db import connection

        from accounts.models import User
        from accounts.tokens import tokens_issue
        from bench.baseline.setup import open_rate, populate_products
        from tenants.services import tenant_provision
        from tenants.spares import spares_top_up

        port = free_port()
        server = subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if REUSE:
            return remeasure(url, port, folder)
        owner = User.objects.create(email="owner@scale.test", password=make_password("bench-pass-word-1"))
        print(f"machine: {os.cpu_count()} cores; {TENANTS} tenants, one existing owner; gunicorn 2 sync workers")
        spares_top_up(1)
        provision, clones, ready, schemas = [], [], {}, []
        first = token = None
        started = time.perf_counter()
        for index in range(TENANTS):
            sampled = index < SAMPLED or index >= TENANTS - SAMPLED or index % 500 == 0
            begun = time.perf_counter()
            tenant = tenant_provision(slug=f"s{index:05d}", name=f"Scale {index}", owner=owner).tenant
            provision.append(time.perf_counter() - begun)
            schemas.append(tenant.schema_name)
            if sampled:
                while get(port, tenant.primary_host) != 200:
                    time.sleep(0.002)
                ready[index] = time.perf_counter() - begun
            cloned = time.perf_counter()
            spares_top_up(1)  # what the worker does after each claim, outside the customer's wait
            clones.append(time.perf_counter() - cloned)
            if index % 100 == 99:
                # As CONN_MAX_AGE recycles a web or worker connection: one connection that
                # created thousands of schemas keeps their catalog entries (GBs by 10,000).
                connection.close()
            if index == 0:
                first, token = tenant, tokens_issue(user=owner, tenant=tenant)["access"]
                populate_products(tenant, owner)
                open_rate(tenant)
            if index + 1 == 10:
                at("10 tenants", url, port, first, token, folder, schemas)
            if (index + 1) % 1000 == 0:
                block, clone_block = provision[index - 999 : index + 1], clones[index - 999 : index + 1]
                print(
                    f"  tenants {index - 998:>5}-{index + 1}: provisioning median {ms(statistics.median(block))},"
                    f" p95 {ms(sorted(block)[949])}; spare clone median {ms(statistics.median(clone_block))}"
                    f" ({time.perf_counter() - started:.0f} s so far)",
                    flush=True,
                )
        connection.close()
        early = [ready[i] for i in range(min(SAMPLED, TENANTS))]
        late = [ready[i] for i in range(max(TENANTS - SAMPLED, 0), TENANTS)]
        print(f"provisioning (schema, owner, domain), median of all {TENANTS}: {ms(statistics.median(provision))}")
        first10, last10 = statistics.median(provision[:10]), statistics.median(provision[-10:])
        print(f"  first 10: median {ms(first10)}; last 10: {ms(last10)}")
        clone_first, clone_last = statistics.median(clones[:10]), statistics.median(clones[-10:])
        print(
            f"cloning the template into a spare (the worker's part): first 10 {ms(clone_first)},"
            f" last 10 {ms(clone_last)}"
        )
        early_median, late_median = statistics.median(early), statistics.median(late)
        print(
            f"ready (provisioned and answering 200 over HTTP): first {len(early)} median {ms(early_median)},"
            f" last {len(late)} median {ms(late_median)}: {late_median / early_median:.2f}x"
        )
        print("  sampled along the way: " + ", ".join(f"#{i} {ms(ready[i])}" for i in sorted(ready) if i % 500 == 0))
        at(f"{TENANTS} tenants", url, port, first, token, folder, schemas)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=40)
        from django.db import connections

        connections.close_all()
        if KEEP:
            print(f'kept: database {DATABASE} (DROP DATABASE "{DATABASE}" WITH (FORCE) when done)')
        else:
            scratch_database_drop(DATABASE)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
