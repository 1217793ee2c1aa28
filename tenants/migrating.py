"""One tenant schema's migration, as `migrate_schemas` runs it (in its own process or
in a worker process it spawned). Kept free of model imports at module level: a spawned
worker imports this module before Django is set up (`worker_start` does that)."""

import time

_nodes: set | None = None


def _unapplied(schema_name: str) -> bool:
    """Whether the schema's django_migrations lacks any migration the code has: one
    query against a graph loaded once per process. A schema the ledger had lost track
    of but that is current is then recorded without running `migrate` on it (whose
    loading, checks and post-migrate signals cost far more than the question)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    global _nodes
    if _nodes is None:
        _nodes = set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    connection.set_schema(schema_name, include_public=False)  # type: ignore[attr-defined]  # its own table only
    try:
        return bool(_nodes - set(MigrationRecorder(connection).applied_migrations()))
    finally:
        connection.set_schema_to_public()  # type: ignore[attr-defined]


def migrate_one(schema_name: str, args, options) -> tuple[str, str, float]:
    """Migrate one schema in one transaction, its ledger row included: (schema, the
    error or "", seconds). A failure rolls back every migration of that schema."""
    from django.db import transaction
    from django_tenants.migration_executors.base import run_migrations
    from django_tenants.utils import get_public_schema_name, schema_context

    from .ledger import ledger_failed, ledger_migrated

    started = time.monotonic()
    try:
        with transaction.atomic():
            # django-tenants' runner commits and closes at its end unless, as here, it
            # runs inside a transaction: then it leaves both to us.
            if _unapplied(schema_name):
                # The checks ran once for the command; per schema they would only repeat.
                run_migrations(args, {**options, "verbosity": 0, "skip_checks": True}, "ledger", schema_name)
            with schema_context(get_public_schema_name()):
                ledger_migrated(schema_name)
        error = ""
    except Exception as exc:  # noqa: BLE001 - reported by name; the other schemas go on
        error = f"{exc.__class__.__name__}: {exc}".strip()
        with schema_context(get_public_schema_name()):
            ledger_failed(schema_name, error)
    return schema_name, error, time.monotonic() - started


def worker_start(database_name: str) -> None:
    """A worker process: Django set up, on the same database as the command."""
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name


def worker_migrate(job) -> tuple[str, str, float]:
    return migrate_one(*job)
