"""`migrate_schemas` at scale: the migration ledger skips up-to-date schemas without
opening them; a failing schema is named, rolled back and recorded while the others
migrate (in worker processes); a second run resumes; `--check` names what is behind.

Real processes on committed schemas: the command commits, and its workers have
connections of their own."""

import subprocess
import sys

import psycopg
import pytest
from django.db import connection, connections

from tenants.ledger import SchemaLedger, code_state
from tenants.services import tenant_delete, tenant_provision
from testing.processes import ROOT, child_env

pytestmark = pytest.mark.django_db
SLUGS = ("ledger-a", "ledger-b", "ledger-c")


@pytest.fixture(scope="module")
def schemas(platform, django_db_blocker):
    with django_db_blocker.unblock():
        made = [tenant_provision(slug=slug, name=slug, owner_email=f"owner@{slug}.test").tenant for slug in SLUGS]
        yield [tenant.schema_name for tenant in made]
        connections.close_all()
        for tenant in made:
            tenant_delete(tenant=tenant, drop_schema=True)


def manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(LOG_LEVEL="WARNING"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _ledger(names) -> dict:
    return {row.schema_name: row for row in SchemaLedger.objects.filter(schema_name__in=names)}


def committed(sql: str, params=()) -> list:
    """Run SQL on a connection of its own, committed at once: the test's connection is
    inside the test's transaction, which the command's processes cannot see."""
    own = connection.settings_dict
    with psycopg.connect(
        host=own["HOST"] or None,
        port=own["PORT"] or None,
        dbname=own["NAME"],
        user=own["USER"] or None,
        autocommit=True,
    ) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def test_new_tenants_start_current_and_a_run_with_nothing_to_do_opens_none(schemas):
    assert {row.state for row in _ledger(schemas).values()} == {code_state()}  # copied from the template
    done = manage("migrate_schemas", "--tenant", "--noinput")
    assert done.returncode == 0, done.stderr
    assert "up to date (migration ledger)" in done.stdout and "migrated in" not in done.stdout


def test_a_failing_schema_is_named_the_others_migrate_and_a_second_run_resumes(schemas):
    good_one, broken, good_two = schemas
    committed("DELETE FROM tenants_schemaledger WHERE schema_name = ANY(%s)", [list(schemas)])
    # The broken schema loses the record of its last inventory migration: migrate runs
    # it again and fails on the table it creates, which exists.
    (lost,) = committed(
        f'DELETE FROM "{broken}".django_migrations WHERE app = %s AND name LIKE %s RETURNING name',
        ["inventory", "0004%"],
    )[0]
    failed = manage("migrate_schemas", "--tenant", "--noinput", "--processes", "2")
    assert failed.returncode == 1
    assert f"{broken}: FAILED (ProgrammingError" in failed.stderr
    assert f"Migrations failed in 1 schema(s): {broken}." in failed.stderr
    assert f"{good_one}: migrated in" in failed.stdout and f"{good_two}: migrated in" in failed.stdout
    rows = _ledger(schemas)
    assert rows[good_one].state == rows[good_two].state == code_state()
    assert rows[broken].state == "" and "already exists" in rows[broken].error
    check = manage("migrate_schemas", "--check")
    assert check.returncode == 1 and broken in check.stderr and good_one not in check.stderr

    committed(
        f'INSERT INTO "{broken}".django_migrations (app, name, applied) VALUES (%s, %s, now())', ["inventory", lost]
    )
    resumed = manage("migrate_schemas", "--tenant", "--noinput")
    assert resumed.returncode == 0, resumed.stderr
    assert "[1/1]" in resumed.stdout and f"{broken}: migrated in" in resumed.stdout
    rows = _ledger(schemas)
    assert rows[broken].state == code_state() and rows[broken].error == ""
    assert broken not in manage("migrate_schemas", "--check").stderr


def test_a_targeted_rollback_takes_the_schema_out_of_the_ledger(schemas):
    name = schemas[0]
    done = manage("migrate_schemas", "--schema", name, "reports", "zero", "--noinput")
    assert done.returncode == 0, done.stderr
    assert name in manage("migrate_schemas", "--check").stderr
    assert manage("migrate_schemas", "--tenant", "--noinput").returncode == 0
    assert name not in manage("migrate_schemas", "--check").stderr
