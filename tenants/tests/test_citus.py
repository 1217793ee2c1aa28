"""Citus schema-based sharding (docs/scaling.md): the template stays on the coordinator,
and `citus_distribute_tenants` moves tenants made before Citus onto the workers.

The tests marked `citus` need a Citus coordinator (CITUS_DATABASE_URL, testing/citus.py)
and are skipped on plain PostgreSQL; the others run everywhere.
"""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from tenants.citus import citus_distribution_plan
from tenants.schemas import schema_create_on_coordinator, template_schema
from tenants.services import tenant_provision

pytestmark = pytest.mark.django_db


def _citus_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
        return cursor.fetchone()[0]


def _distributed(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_dist_schema s JOIN pg_namespace n ON n.oid = s.schemaid "
            "WHERE n.nspname = %s)",
            [schema],
        )
        return cursor.fetchone()[0]


citus = pytest.mark.skipif(not settings.CITUS_DATABASE_URL, reason="needs a Citus coordinator: CITUS_DATABASE_URL")


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_template_schema_is_created_with_schema_based_sharding_off():
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        schema_create_on_coordinator("tpl_probe")
    sql = [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE", "SET search_path"))
    ]
    assert sql == ["SET LOCAL citus.enable_schema_based_sharding = off", 'CREATE SCHEMA "tpl_probe"']


def test_distribute_command_refuses_in_one_line_without_citus():
    if _citus_installed():
        pytest.skip("this database has Citus")
    for args in ((), ("--dry-run",)):
        with pytest.raises(CommandError) as refused:
            _run("citus_distribute_tenants", *args)
        message = str(refused.value)
        assert "\n" not in message
        assert message.startswith("The Citus extension is not installed in database")


@citus
def test_on_citus_tenants_are_distributed_and_the_template_is_not(tenant_a, tenant_b):
    assert _citus_installed()
    assert _distributed(tenant_a.schema_name) and _distributed(tenant_b.schema_name)
    assert not _distributed(template_schema())


@citus
def test_distribute_command_moves_a_tenant_made_before_citus_and_keeps_its_trail_append_only():
    # A tenant provisioned while schema-based sharding was off: a local schema.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL citus.enable_schema_based_sharding = off")
    tenant = tenant_provision(slug="pre-citus", name="Before Citus", owner_email="owner@pre-citus.test").tenant
    assert not _distributed(tenant.schema_name)
    with tenant_context(tenant):
        trail = set(AuditEvent.objects.values_list("id", flat=True))
    assert trail  # the provisioning's own events, rows the local copy holds

    dry = _run("citus_distribute_tenants", "--dry-run")
    assert "pre-citus: would distribute" in dry and "empty the local copy" in dry
    assert not _distributed(tenant.schema_name)

    out = _run("citus_distribute_tenants")
    assert "pre-citus: distributed, local copy of" in out
    assert _distributed(tenant.schema_name)
    step = next(step for step in citus_distribution_plan().steps if step.slug == "pre-citus")
    assert step.done and step.leftovers == []
    with tenant_context(tenant):
        assert set(AuditEvent.objects.values_list("id", flat=True)) == trail
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.all().delete()
    assert "pre-citus" not in _run("citus_distribute_tenants")  # nothing left to do
