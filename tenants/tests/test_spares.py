"""Spare tenant schemas (tenants.spares): cloned ahead, claimed by rename inside the
provisioning transaction, never listed or served, only when current, migrated and
topped up by `migrate_schemas`."""

import subprocess
import sys

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from core.outbox.models import PendingTask
from inventory.models import Product
from tenants import schemas, services
from tenants.ledger import SchemaLedger, code_state
from tenants.selectors import leftover_schema_list
from tenants.services import tenant_provision
from tenants.spares import SPARE_PREFIX, SPARES_TOP_UP_TASK, spare_schema_list, spares_top_up
from testing.helpers import api_client
from testing.processes import ROOT, child_env

pytestmark = pytest.mark.django_db


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_spares_are_cloned_current_and_never_listed_or_routed(settings, client):
    settings.SPARE_SCHEMAS = 2
    assert spares_top_up() == 2
    assert spares_top_up() == 0  # full: nothing more
    spares = spare_schema_list(current_only=True)
    assert len(spares) == 2 and all(name.startswith(SPARE_PREFIX) for name in spares)
    template = _tables(settings.TENANT_TEMPLATE_SCHEMA)
    assert all(_tables(name) == template for name in spares)
    assert {row.state for row in SchemaLedger.objects.filter(schema_name__in=spares)} == {code_state()}
    assert not set(spares) & set(leftover_schema_list())  # not a kept schema of a deleted tenant
    for name in spares:  # no domain names a spare: nothing routes to it
        assert client.get("/api/v1/", HTTP_HOST=f"{name}.localhost").status_code in (400, 404)


def test_provisioning_renames_a_spare_and_asks_for_another(settings):
    settings.SPARE_SCHEMAS = 1
    spares_top_up()
    [spare] = spare_schema_list()
    made = tenant_provision(slug="spare-one", name="Spare one", owner_email="owner@spare-one.test")
    schema = made.tenant.schema_name
    assert not schema_exists(spare) and schema_exists(schema)
    assert spare_schema_list() == []
    assert SchemaLedger.objects.get(schema_name=schema).state == code_state()
    assert not SchemaLedger.objects.filter(schema_name=spare).exists()
    assert PendingTask.objects.filter(task=SPARES_TOP_UP_TASK).exists()  # refilled after the commit
    created = api_client(made.tenant, made.owner).post("/api/v1/products/", {"sku": "S-1", "name": "Spare"})
    assert created.status_code == 201, created.content
    with schema_context(schema):
        assert list(Product.objects.values_list("sku", flat=True)) == ["S-1"]


def test_a_spare_behind_the_code_is_not_claimed(settings):
    settings.SPARE_SCHEMAS = 1
    spares_top_up()
    [spare] = spare_schema_list()
    SchemaLedger.objects.filter(schema_name=spare).update(state="an-older-state")
    made = tenant_provision(slug="spare-two", name="Spare two", owner_email="owner@spare-two.test")
    assert schema_exists(spare) and spare_schema_list() == [spare]  # cloned instead
    assert _tables(made.tenant.schema_name) == _tables(settings.TENANT_TEMPLATE_SCHEMA)
    assert not PendingTask.objects.filter(task=SPARES_TOP_UP_TASK).exists()
    with pytest.raises(SystemExit):
        call_command("migrate_schemas", "--check")


def test_a_failed_provisioning_gives_the_spare_back(settings, monkeypatch):
    settings.SPARE_SCHEMAS = 1
    spares_top_up()
    [spare] = spare_schema_list()

    def fail(**kwargs):
        raise RuntimeError("the owner's membership could not be written")

    monkeypatch.setattr(services, "_tenant_open", fail)
    with pytest.raises(RuntimeError):
        tenant_provision(slug="spare-three", name="Spare three", owner_email="owner@spare-three.test")
    assert spare_schema_list(current_only=True) == [spare]
    assert not schema_exists("spare_three") and not schema_exists("spare-three")


def test_provisioning_does_not_wait_for_a_spare_being_cloned():
    """A worker cloning a spare holds the spares' lock, never the provisioning lock, and
    provisioning never asks for the spares' lock."""
    own = connection.settings_dict
    where = {"host": own["HOST"] or None, "port": own["PORT"] or None, "user": own["USER"] or None}
    with psycopg.connect(dbname=own["NAME"], autocommit=True, **where) as worker:
        worker.execute("SELECT pg_advisory_lock(%s)", [schemas._SPARES_LOCK_KEY])  # a clone in progress
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting would fail, not hang
        made = tenant_provision(slug="spare-four", name="Spare four", owner_email="owner@spare-four.test")
        assert schema_exists(made.tenant.schema_name)


def _committed(sql: str, params=()) -> list:
    own = connection.settings_dict
    where = {"host": own["HOST"] or None, "port": own["PORT"] or None, "user": own["USER"] or None}
    with psycopg.connect(dbname=own["NAME"], autocommit=True, **where) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@pytest.mark.e2e
def test_migrate_schemas_migrates_spares_and_tops_the_pool_up(platform):
    """Real processes on a committed database: the command clones the pool, and a spare
    left behind is migrated with the tenants before any claim could take it."""

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=child_env(LOG_LEVEL="WARNING", SPARE_SCHEMAS="2"),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def spares():
        return [
            row[0]
            for row in _committed(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname", [r"\_spare\_%"]
            )
        ]

    try:
        done = manage("migrate_schemas", "--tenant", "--noinput")
        assert done.returncode == 0, done.stderr
        assert "Spare schemas: 2 cloned" in done.stdout
        first, _ = spares()
        _committed("UPDATE tenants_schemaledger SET state = 'older' WHERE schema_name = %s", [first])
        _committed(f"DELETE FROM \"{first}\".django_migrations WHERE app = 'reports'")
        _committed(f'DROP TABLE "{first}".reports_reportrun')
        check = manage("migrate_schemas", "--check")
        assert check.returncode == 1 and first in check.stderr
        again = manage("migrate_schemas", "--tenant", "--noinput")
        assert again.returncode == 0, again.stderr
        assert f"{first}: migrated in" in again.stdout
        assert _committed("SELECT state FROM tenants_schemaledger WHERE schema_name = %s", [first]) == [(code_state(),)]
        assert "reports_reportrun" in [
            row[0] for row in _committed("SELECT tablename FROM pg_tables WHERE schemaname = %s", [first])
        ]
    finally:
        for name in spares():
            _committed(f'DROP SCHEMA "{name}" CASCADE')
        _committed("DELETE FROM tenants_schemaledger WHERE schema_name LIKE %s", [r"\_spare\_%"])
