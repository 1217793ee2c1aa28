"""PostgreSQL schema DDL: the only module that creates, clones or drops schemas.

New tenant schemas are cloned from a template schema (`TENANT_TEMPLATE_SCHEMA`) that
`migrate_schemas` keeps migrated, so provisioning costs one clone instead of running
every migration. The clone copies the template's `django_migrations` rows too, so the
new schema is known to be at the current migration state.

Switching the connection into a schema is django-tenants' `tenant_context` /
`schema_context`, used directly; slug rules live in `tenants.slugs`.
"""

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_exists

from .clone import clone_schema
from .ledger import ledger_copy, ledger_forget

# Serialises provisioning and leftover-schema changes: slug and domain checks, clones
# and spare claims must not interleave.
_PROVISION_LOCK_KEY = 0x7E55E4A
# Serialises the cloning of spare schemas among itself only: a provisioning never
# waits for a spare being cloned (it cannot see it before it commits anyway).
_SPARES_LOCK_KEY = 0x7E55E4B


def provisioning_lock() -> None:
    """Take the provisioning lock until the current transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PROVISION_LOCK_KEY])


def spares_lock() -> None:
    """Take the spare-cloning lock until the current transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SPARES_LOCK_KEY])


def template_schema() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


def schema_create_on_coordinator(schema_name: str) -> None:
    """Create a schema that never becomes a distributed schema (the template).

    Under Citus's `citus.enable_schema_based_sharding` a new schema is distributed and
    its tables live whole on one worker; the template must stay on the coordinator
    beside `public`, or every clone would copy its rows from another node
    (docs/scaling.md). Without Citus the setting is an unused placeholder.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL citus.enable_schema_based_sharding = off")
        cursor.execute(f"CREATE SCHEMA {connection.ops.quote_name(schema_name)}")


def schema_clone_template(schema_name: str) -> None:
    """Create `schema_name` as a copy of the template, inside the caller's transaction."""
    if not schema_exists(template_schema()):
        raise RuntimeError(
            f'Template schema "{template_schema()}" is missing: run `python manage.py migrate_schemas` first.'
        )
    clone_schema(template_schema(), schema_name)
    ledger_copy(template_schema(), schema_name)


def schema_drop(schema_name: str) -> None:
    if schema_name in (get_public_schema_name(), template_schema()) or not schema_exists(schema_name):
        return
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
    ledger_forget(schema_name)
