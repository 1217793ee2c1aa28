"""What keeps Tessera runnable on Citus (docs/scaling.md), checked on plain PostgreSQL.

On Citus a tenant's tables live on a worker node; a statement naming one is sent whole to
that worker. Two ways the code could break there are visible without Citus: a raw-SQL
migration sending several statements as one string (a worker takes one command per
prepared statement), and a statement mixing a coordinator-only function (sequence and
session functions resolving names on the coordinator) with a tenant table.
"""

import re

import pytest
import sqlparse
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunSQL, SeparateDatabaseAndState
from django.test.utils import CaptureQueriesContext

from tenants.services import tenant_provision

_COORDINATOR_ONLY = re.compile(
    r"\b(setval|nextval|currval|lastval|pg_get_serial_sequence|set_config|pg_advisory_(?:xact_)?lock)\s*\(", re.I
)
# A relation a statement reads or writes: FROM / JOIN / INTO / UPDATE [schema.]table.
_RELATION = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+(?:"?(\w+)"?\s*\.\s*)?"?(\w+)"?', re.I)


def _statements(sql) -> list[str]:
    return [part for part in sqlparse.split(sql) if part.strip().rstrip(";").strip()]


def _run_sql_operations(operations):
    for operation in operations:
        if isinstance(operation, SeparateDatabaseAndState):
            yield from _run_sql_operations(operation.database_operations)
        elif isinstance(operation, RunSQL):
            yield operation


def test_every_raw_sql_migration_operation_gives_one_statement_per_element():
    """A string holding several statements is split by sqlparse if Django can; a list of
    single statements needs no parser to reach a worker one command at a time."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    project = {config.label for config in apps.get_app_configs() if config.path.startswith(str(settings.BASE_DIR))}
    checked, offending = 0, []
    for (app, name), migration in loader.disk_migrations.items():
        if app not in project:
            continue
        for operation in _run_sql_operations(migration.operations):
            for direction in (operation.sql, operation.reverse_sql):
                if direction is None or direction == RunSQL.noop:
                    continue
                checked += 1
                elements = [direction] if isinstance(direction, str) else list(direction)
                for element in elements:
                    sql = element[0] if isinstance(element, list | tuple) else element
                    if len(_statements(sql)) != 1:
                        offending.append(f"{app}.{name}: {sql.strip()[:80]!r}")
    assert checked >= 8  # the audit guards and renames, inventory's counter
    assert offending == []


def test_provisioning_sends_no_statement_mixing_a_coordinator_function_with_a_tenant_table(db):
    tenant_labels = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    tenant_tables = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in tenant_labels
    } | {"django_migrations"}
    with CaptureQueriesContext(connection) as captured:
        tenant_provision(slug="routable", name="Routable", owner_email="owner@routable.test")
    statements = [query["sql"] for query in captured.captured_queries]

    mixed, several = [], []
    for sql in statements:
        if len(_statements(sql)) > 1:
            several.append(sql[:80])
        if _COORDINATOR_ONLY.search(sql):
            named = {table for schema, table in _RELATION.findall(sql) if schema != settings.TENANT_TEMPLATE_SCHEMA}
            if named & tenant_tables:
                mixed.append(sql)
    # The clone was replayed (its rows copied, the identity sequence moved past them)...
    assert any(re.match(r'INSERT INTO "django_migrations" SELECT', sql) for sql in statements)
    assert any(sql.startswith("SELECT setval(") for sql in statements)
    # ...and every statement is one command, routable to one node.
    assert several == []
    assert mixed == []


@pytest.mark.parametrize(
    "sql, mixed",
    [
        (
            "SELECT setval(pg_get_serial_sequence('\"django_migrations\"', 'id'), "
            '(SELECT max("id") FROM "django_migrations"))',
            True,
        ),
        ("SELECT setval(pg_get_serial_sequence('\"django_migrations\"', 'id'), 57)", False),
        ('INSERT INTO "django_migrations" SELECT * FROM "_template"."django_migrations"', False),
    ],
)
def test_routability_rule_tells_the_old_sequence_reset_from_the_new(sql, mixed):
    named = {table for schema, table in _RELATION.findall(sql) if schema != "_template"}
    assert bool(_COORDINATOR_ONLY.search(sql) and "django_migrations" in named) is mixed
