"""PostgreSQL failing under a real server: connections cut in flight, timeouts, a
restart. What a client sees, and what is committed behind it.

This module's own tenant (`dbfault`, committed, dropped at the end) is served by
gunicorn. Cut connections and the statement timeout use this run's test database: the
test cuts only the server's own backend (pg_terminate_backend), found waiting on a
lock the test holds. The restart and the lock timeout use a PostgreSQL of the module's
own (pgserver, a copy of the test database) and a Redis of its own: never the
machine's servers.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, connections
from django_tenants.utils import tenant_context

from accounts.services import membership_create, user_create
from core.errors import DatabaseUnavailable
from core.roles import Role
from inventory.tests.factories import ProductFactory
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD
from testing.outages import PostgresServer, RedisServer, call, source_database_url
from testing.processes import child_env, gunicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

HOST = "dbfault.localhost"
UNAVAILABLE = {"detail": DatabaseUnavailable.default_message, "code": "database_unavailable"}
# Where a product create waits when the test holds this table: after its INSERT, in the
# view's re-read of the product (its `on_hand` sums stock levels).
STOCK_LEVELS = "dbfault.inventory_stocklevel"


@pytest.fixture(scope="module")
def dbfault(platform, django_db_blocker):
    with django_db_blocker.unblock():
        result = tenant_provision(
            slug="dbfault", name="DB Fault", owner_email="owner@dbfault.test", owner_password=PASSWORD
        )
        membership_create(
            tenant=result.tenant, user=user_create(email="manager@dbfault.test", password=PASSWORD), role=Role.MANAGER
        )
        with tenant_context(result.tenant):  # lists have a row to read, hence a query to make
            ProductFactory(sku="SEED")
        yield result.tenant
        connections.close_all()
        tenant_delete(tenant=result.tenant, drop_schema=True)


@pytest.fixture(scope="module")
def test_database(dbfault) -> str:
    return source_database_url(connection.settings_dict)


@pytest.fixture(scope="module")
def server(dbfault):
    """No lock timeout (a request waits until cut), a 1.5 s statement timeout."""
    env = child_env(DB_LOCK_TIMEOUT_MS="0", DB_STATEMENT_TIMEOUT_MS="1500", LOG_LEVEL="CRITICAL")
    with gunicorn(env) as base:
        yield base


@pytest.fixture(scope="module")
def own_postgres(dbfault):
    server = PostgresServer(source_database_url(connection.settings_dict))
    yield server
    server.remove()


@pytest.fixture(scope="module")
def restarted_server(own_postgres):
    """On the module's own PostgreSQL and Redis, with a 300 ms lock timeout."""
    redis = RedisServer()
    redis.start()
    env = child_env(
        DATABASE_URL=own_postgres.url,
        REDIS_URL=redis.url(0),
        CELERY_BROKER_URL=redis.url(1),
        DB_LOCK_TIMEOUT_MS="300",
        DB_STATEMENT_TIMEOUT_MS="0",
        LOG_LEVEL="CRITICAL",
    )
    try:
        with gunicorn(env) as base:
            yield base
    finally:
        redis.remove()


@contextmanager
def table_locked(dsn: str, table: str) -> Iterator[psycopg.Connection]:
    """Hold an exclusive lock on `table` until the block ends (rolled back)."""
    with psycopg.connect(dsn) as holder:
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield holder
        holder.rollback()


def waiting_backend(holder: psycopg.Connection) -> int:
    """The pid of the backend that waits for the holder's lock (the server's)."""
    for _ in range(500):
        row = holder.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'"
        ).fetchone()
        if row:
            return row[0]
        holder.execute("SELECT pg_sleep(0.01)")
    raise AssertionError("No request came to wait for the lock.")


def has_inserted_into(holder: psycopg.Connection, pid: int, table: str) -> bool:
    """Whether backend `pid` holds the lock an INSERT takes: it has written to `table`."""
    return bool(
        holder.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE l.pid = %s AND n.nspname = 'dbfault' AND c.relname = %s "
            "AND l.mode = 'RowExclusiveLock' AND l.granted",
            [pid, table],
        ).fetchone()
    )


def products(dsn: str, sku: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM dbfault.inventory_product WHERE sku = %s", [sku]).fetchone()[0]


def access(server: str, host: str, email: str) -> str:
    status, body, _ = call(server, "POST", "/api/v1/auth/token/", host, {"email": email, "password": PASSWORD})
    assert status == 200, body
    return body["access"]


def create_product(server: str, token: str, sku: str) -> tuple[int, dict, dict]:
    return call(server, "POST", "/api/v1/products/", HOST, {"sku": sku, "name": sku}, token)


def test_a_write_cut_off_in_flight_answers_503_and_saves_nothing(server, test_database):
    token = access(server, HOST, "manager@dbfault.test")
    with ThreadPoolExecutor(1) as pool, table_locked(test_database, STOCK_LEVELS) as holder:
        answer = pool.submit(create_product, server, token, "CUT-1")
        pid = waiting_backend(holder)
        assert has_inserted_into(holder, pid, "inventory_product")  # the write is done, not committed
        holder.execute("SELECT pg_terminate_backend(%s)", [pid])
        status, body, headers = answer.result(timeout=15)
    assert (status, body, headers["Retry-After"]) == (503, UNAVAILABLE, "5")
    assert products(test_database, "CUT-1") == 0


def test_after_a_cut_the_next_requests_reconnect_each_in_its_own_schema(server, test_database):
    token = access(server, HOST, "manager@dbfault.test")
    alpha = access(server, "alpha.localhost", "manager@alpha.test")
    with ThreadPoolExecutor(1) as pool, table_locked(test_database, STOCK_LEVELS) as holder:
        answer = pool.submit(call, server, "GET", "/api/v1/products/", HOST, None, token)
        holder.execute("SELECT pg_terminate_backend(%s)", [waiting_backend(holder)])
        assert answer.result(timeout=15)[0] == 503
    # A new connection: its search_path is set again on every cursor (django-tenants,
    # TENANT_LIMIT_SET_CALLS off), so each host reads its own schema only.
    assert create_product(server, token, "AFTER-CUT")[0] == 201
    for _ in range(3):
        listed = call(server, "GET", "/api/v1/products/", HOST, token=token)
        assert listed[0] == 200 and {p["sku"] for p in listed[1]["results"]} == {"SEED", "AFTER-CUT"}
        listed = call(server, "GET", "/api/v1/products/?sku=AFTER-CUT", "alpha.localhost", token=alpha)
        assert listed[0] == 200 and listed[1]["count"] == 0
    assert products(test_database, "AFTER-CUT") == 1


def test_a_statement_past_the_statement_timeout_answers_503(server, test_database):
    token = access(server, HOST, "manager@dbfault.test")
    with table_locked(test_database, STOCK_LEVELS):
        status, body, headers = call(server, "GET", "/api/v1/products/", HOST, token=token)
    assert (status, body, headers.get("Retry-After")) == (503, UNAVAILABLE, "5")
    assert call(server, "GET", "/api/v1/products/", HOST, token=token)[0] == 200


def test_a_write_past_the_lock_timeout_answers_503_and_saves_nothing(restarted_server, own_postgres):
    token = access(restarted_server, HOST, "manager@dbfault.test")
    with table_locked(own_postgres.url, STOCK_LEVELS):
        status, body, _ = create_product(restarted_server, token, "LOCKED-1")
    assert (status, body) == (503, UNAVAILABLE)
    assert products(own_postgres.url, "LOCKED-1") == 0


def test_a_restart_answers_503_while_down_and_nothing_after_it(restarted_server, own_postgres):
    token = access(restarted_server, HOST, "manager@dbfault.test")
    assert call(restarted_server, "GET", "/api/v1/products/", HOST, token=token)[0] == 200  # a live connection

    own_postgres.stop()
    try:
        for method, path, body in (("GET", "/api/v1/products/", None), ("POST", "/api/v1/products/", {"sku": "X"})):
            status, answer, headers = call(restarted_server, method, path, HOST, body, token)
            assert (status, answer, headers["Retry-After"]) == (503, UNAVAILABLE, "5")
        assert call(restarted_server, "GET", "/readyz", "127.0.0.1")[1]["checks"]["postgres"].startswith("down")
    finally:
        own_postgres.start()

    # The connection the restart cut is replaced (CONN_HEALTH_CHECKS): no error after it.
    assert call(restarted_server, "GET", "/api/v1/products/", HOST, token=token)[0] == 200
    assert create_product(restarted_server, token, "AFTER-RESTART")[0] == 201
    assert products(own_postgres.url, "AFTER-RESTART") == 1
    assert call(restarted_server, "GET", "/readyz", "127.0.0.1")[0] == 200
