"""`migrate_schemas`, plus what makes a fresh database usable right after it.

Besides migrating public and every tenant (django-tenants), it creates the public
tenant with its PUBLIC_DOMAIN domain (idempotently) and creates or migrates the
template schema that new tenants are cloned from.
"""

from django.conf import settings
from django.db import connection
from django_tenants.management.commands.migrate_schemas import GET_EXECUTOR_FUNCTION, MigrateSchemasCommand
from django_tenants.utils import get_public_schema_name, schema_exists

from audit.services import audit_guard_install
from tenants.models import Domain, Tenant
from tenants.schemas import template_schema


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        requested_schema = options.get("schema_name")
        super().handle(*args, **options)
        if self.sync_public and requested_schema in (None, get_public_schema_name()):
            self._ensure_public_tenant()
            # The audit guard carries AUDIT_RETENTION_DAYS; keep it in step with settings.
            audit_guard_install()
        if self.sync_tenant and requested_schema in (None, template_schema()):
            self._migrate_template()

    def _ensure_public_tenant(self):
        connection.set_schema_to_public()
        public, _ = Tenant.objects.get_or_create(
            schema_name=get_public_schema_name(), defaults={"slug": "public", "name": "Tessera platform"}
        )
        Domain.objects.get_or_create(domain=settings.PUBLIC_DOMAIN, defaults={"tenant": public, "is_primary": True})

    def _migrate_template(self):
        name = template_schema()
        connection.set_schema_to_public()
        if not schema_exists(name):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{name}"')
        executor = GET_EXECUTOR_FUNCTION(codename=self.executor)(self.args, self.options)
        executor.run_migrations(tenants=[name])
        connection.set_schema_to_public()
