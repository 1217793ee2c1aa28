"""PostgreSQL schema operations: the only module that creates, clones or drops schemas.

New tenant schemas are cloned from a template schema (`TENANT_TEMPLATE_SCHEMA`) that
`migrate_schemas` keeps migrated, so provisioning costs one clone instead of running
every migration. The clone copies the template's `django_migrations` rows too, so the
new schema is known to be at the current migration state.
"""

import re

from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from .clone import clone_schema

# Slugs are DNS labels; the schema name is derived from the slug (hyphens become
# underscores), so both fit the 63-character limit of each.
SLUG_PATTERN = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_SLUGS = frozenset(
    {
        "public",
        "www",
        "admin",
        "api",
        "app",
        "static",
        "media",
        "mail",
        "smtp",
        "ftp",
        "root",
        "system",
        "template",
        "information-schema",
        "default",
        "localhost",
        "status",
        "docs",
        "help",
        "support",
    }
)


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name a tenant, or None when it can."""
    if not isinstance(slug, str) or not slug:
        return "A slug is required."
    if len(slug) > 63:
        return f"Slug is {len(slug)} characters long; at most 63 are allowed."
    if not SLUG_PATTERN.match(slug):
        return (
            "Slug may contain only lowercase letters, digits and hyphens, "
            "must start with a letter and must not end with a hyphen."
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        return f'"{slug}" is reserved.'
    return None


def current_schema() -> str:
    """The schema the connection is in (django-tenants' attribute on the connection)."""
    return connection.schema_name  # type: ignore[attr-defined]


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def template_schema() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


def schema_clone_template(schema_name: str) -> None:
    """Create `schema_name` as a copy of the template, inside the caller's transaction."""
    if not schema_exists(template_schema()):
        raise RuntimeError(
            f'Template schema "{template_schema()}" is missing: run `python manage.py migrate_schemas` first.'
        )
    clone_schema(template_schema(), schema_name)


def schema_drop(schema_name: str) -> None:
    if schema_name in ("public", template_schema()) or not schema_exists(schema_name):
        return
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{schema_name}" CASCADE')


def tenant_schema(tenant):
    """Work in `tenant`'s schema for the duration of a `with` block (commands, admin, tasks)."""
    return schema_context(tenant.schema_name)


def each_tenant_schema(tenants):
    """Yield each tenant while the connection is in its schema; public again afterwards."""
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            yield tenant
