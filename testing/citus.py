"""Optional: the suite against a Citus cluster, when CITUS_DATABASE_URL names one.

`CITUS_DATABASE_URL=postgres://user@coordinator:5432/db make test` runs the tests on a
Citus coordinator instead of DATABASE_URL's server (config/settings/test.py swaps the
connection). `db` must exist on every node with the citus extension and the workers
registered in it (docs/scaling.md). This plugin makes the run's own database,
`test_<db>`, on the coordinator and on every worker it lists (same user and password),
with the extension, the workers registered and the two settings Tessera needs on the
coordinator; pytest-django then finds it (as with --reuse-db) and migrates it, and it is
dropped on every node at the end. Without CITUS_DATABASE_URL this does nothing.
"""

from urllib.parse import unquote, urlsplit

import psycopg
from django.conf import settings
from django.db import connections


def _citus_url() -> dict | None:
    url = getattr(settings, "CITUS_DATABASE_URL", "")  # the settings take it out of the environment
    if not url:
        return None
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "dbname": parts.path.lstrip("/"),
    }


def _nodes(coordinator: dict) -> tuple[list[tuple[str, int]], tuple[str, int]]:
    """(workers, coordinator as the cluster knows it) from the coordinator's pg_dist_node."""
    with psycopg.connect(**coordinator, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nodename, nodeport, groupid FROM pg_dist_node "
            "WHERE noderole = 'primary' AND isactive ORDER BY nodeid"
        ).fetchall()
    workers = [(name, port) for name, port, group in rows if group != 0]
    if not workers:
        raise RuntimeError("CITUS_DATABASE_URL: the coordinator lists no worker (citus_add_node first).")
    known = [(name, port) for name, port, group in rows if group == 0]
    return workers, known[0] if known else (coordinator["host"], coordinator["port"])


def _recreate(node: dict, name: str) -> None:
    with psycopg.connect(**node, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(**{**node, "dbname": name}, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION citus")


def _drop(node: dict, name: str) -> None:
    with psycopg.connect(**node, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _test_database(coordinator: dict) -> str:
    return f"test_{coordinator['dbname']}"


def pytest_configure(config):
    coordinator = _citus_url()
    if coordinator is None:
        return
    name = _test_database(coordinator)
    workers, (coordinator_name, coordinator_port) = _nodes(coordinator)
    for host, port in workers:
        _recreate({**coordinator, "host": host, "port": port}, name)
    _recreate(coordinator, name)
    with psycopg.connect(**{**coordinator, "dbname": name}, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{name}\" SET citus.enable_schema_based_sharding = 'on'")
        conn.execute(f"ALTER DATABASE \"{name}\" SET citus.enable_unsafe_triggers = 'on'")
        conn.execute("SELECT citus_set_coordinator_host(%s, %s)", [coordinator_name, coordinator_port])
        for host, port in workers:
            conn.execute("SELECT citus_add_node(%s, %s)", [host, port])
    config.option.reuse_db = True  # made here: pytest-django only migrates it


def pytest_unconfigure(config):
    coordinator = _citus_url()
    if coordinator is None or not getattr(config.option, "reuse_db", False):
        return
    connections.close_all()
    name = _test_database(coordinator)
    workers, _ = _nodes(coordinator)
    _drop(coordinator, name)
    for host, port in workers:
        _drop({**coordinator, "host": host, "port": port}, name)


def pytest_report_header(config):
    coordinator = _citus_url()
    if coordinator is not None:
        return f"Citus: coordinator {coordinator['host']}:{coordinator['port']}, database test_{coordinator['dbname']}"
    return None
