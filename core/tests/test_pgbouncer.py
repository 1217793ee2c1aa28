"""Debian's pgbouncer in front of PostgreSQL, for real.

Session pooling (DB_POOL_MODE=session) works: the server connections are shared
between clients one after the other, and pgbouncer's reset (`DISCARD ALL`) gives each
new client a clean session, whose search_path and timeouts Tessera sets again.
Transaction pooling is refused at start-up: `test_transaction_pooling_leaks_a_session_setting`
shows the reason on pgbouncer itself.

Runs against the machine's PostgreSQL over TCP (the run with DATABASE_URL set); the
embedded server of `make test` listens on a socket in the data folder that a pgbouncer
running as another user (it refuses to run as root) cannot reach, so there it is skipped.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections

from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD
from testing.processes import ROOT, call_json, child_env, free_port, gunicorn

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SLUGS = ("pgb-one", "pgb-two")
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def _start(mode: str):
    """pgbouncer on a free port with one server connection per pool; (process, port, folder)."""
    if not Path(PGBOUNCER).exists():
        pytest.fail("pgbouncer is not installed: apt-get install -y pgbouncer")
    settings = connection.settings_dict
    if not settings["HOST"] or settings["HOST"].startswith("/"):
        pytest.skip("the embedded PostgreSQL listens on a socket only (see the module docstring)")
    folder = Path(tempfile.mkdtemp(prefix="tessera-pgbouncer-"))
    port = free_port()
    name, user = settings["NAME"], settings["USER"] or "postgres"
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
{name} = host={settings["HOST"]} port={settings["PORT"] or 5432} dbname={name} user={user}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
admin_users = {user}
pool_mode = {mode}
default_pool_size = 1
max_client_conn = 100
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits,options
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""
    )
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer will not run as root
        shutil.chown(folder, "postgres")
        for path in folder.iterdir():
            shutil.chown(path, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(host="127.0.0.1", port=port, dbname=name, user=user, connect_timeout=1).close()
            return process, port, folder
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"pgbouncer did not start: {(folder / 'pgbouncer.log').read_text()}") from None
            time.sleep(0.1)


def _stop(process, folder):
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def session_pool(platform, django_db_blocker):
    """pgbouncer in session pooling, and two committed tenants of this module's own
    (their rows are written by the server, outside any test transaction)."""
    process, port, folder = _start("session")
    with django_db_blocker.unblock():
        made = [
            tenant_provision(slug=slug, name=slug, owner_email=f"owner@{slug}.test", owner_password=PASSWORD).tenant
            for slug in SLUGS
        ]
    yield port
    _stop(process, folder)
    with django_db_blocker.unblock():
        connections.close_all()
        for tenant in made:
            tenant_delete(tenant=tenant, drop_schema=True)


_call = call_json


@pytest.mark.parametrize("conn_max_age", ["0", "60"])
def test_session_pooling_serves_two_tenants_interleaved_through_one_server_connection(session_pool, conn_max_age):
    """Two tenants' requests alternate through pgbouncer's one server connection: each
    answer is its own tenant's, whether Django keeps its connection (60) or opens a new
    one per request (0: a new pgbouncer client each time, the same server session)."""
    name = connection.settings_dict["NAME"]
    env = child_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{session_pool}/{name}",
        DB_POOL_MODE="session",
        CONN_MAX_AGE=conn_max_age,
        LOG_LEVEL="WARNING",
    )
    with gunicorn(env) as base:
        tokens = {}
        for slug in SLUGS:
            status, body = _call(
                base,
                "POST",
                "/api/v1/auth/token/",
                f"{slug}.localhost",
                {"email": f"owner@{slug}.test", "password": PASSWORD},
            )
            assert status == 200, body
            tokens[slug] = body["access"]
        made = []
        for round_ in range(8):
            for slug in SLUGS:
                host = f"{slug}.localhost"
                status, tenant = _call(base, "GET", "/api/v1/tenant/", host, token=tokens[slug])
                assert (status, tenant["slug"]) == (200, slug)
                sku = f"PGB-{conn_max_age}-{slug}-{round_}"
                status, product = _call(
                    base, "POST", "/api/v1/products/", host, {"sku": sku, "name": sku}, token=tokens[slug]
                )
                assert status == 201, product
                made.append((slug, sku))
        for slug in SLUGS:
            status, page = _call(
                base,
                "GET",
                f"/api/v1/products/?search=PGB-{conn_max_age}-&page_size=200",
                f"{slug}.localhost",
                token=tokens[slug],
            )
            assert sorted(p["sku"] for p in page["results"]) == sorted(sku for owner, sku in made if owner == slug)
    with psycopg.connect(
        host="127.0.0.1", port=session_pool, dbname="pgbouncer", user="postgres", autocommit=True
    ) as admin:
        servers = admin.execute("SHOW SERVERS").fetchall()
    assert len(servers) <= 1  # everything above went through one server connection


def test_session_pooling_sets_the_timeouts_that_pgbouncer_drops(session_pool):
    name = connection.settings_dict["NAME"]
    script = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('SHOW statement_timeout'); a = c.fetchone()[0]; c.execute('SHOW lock_timeout'); "
        "print(a, c.fetchone()[0])"
    )
    env = child_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{session_pool}/{name}",
        DB_POOL_MODE="session",
        DB_STATEMENT_TIMEOUT_MS="7000",
        DB_LOCK_TIMEOUT_MS="3000",
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["7s", "3s"]


def test_transaction_pooling_is_refused_at_start_up():
    env = child_env(DB_POOL_MODE="transaction")
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "DB_POOL_MODE='transaction' is refused" in out.stderr and "pool_mode = session" in out.stderr


def test_transaction_pooling_leaks_a_session_setting(platform):
    """Why: in transaction pooling a session-level SET made by one client is what the
    next client finds on the shared server connection."""
    process, port, folder = _start("transaction")
    try:
        name = connection.settings_dict["NAME"]
        with (
            psycopg.connect(host="127.0.0.1", port=port, dbname=name, user="postgres", autocommit=True) as one,
            psycopg.connect(host="127.0.0.1", port=port, dbname=name, user="postgres", autocommit=True) as two,
        ):
            one.execute('SET search_path = "alpha", public')
            found = two.execute("SELECT current_setting('search_path')").fetchone()[0]
        assert found == "alpha, public"  # another client's tenant
    finally:
        _stop(process, folder)
