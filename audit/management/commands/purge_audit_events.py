from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_purge
from core.context import meta_context
from tenants.schemas import each_tenant_schema
from tenants.selectors import tenant_get, tenant_list


class Command(BaseCommand):
    help = "Delete audit rows older than AUDIT_RETENTION_DAYS: every tenant's trail and the platform log."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant's trail (slug).")

    def handle(self, *args, **options):
        self.stdout.write(f"Removing audit rows older than {settings.AUDIT_RETENTION_DAYS} days.")
        with meta_context(source="command"):
            if options["tenant"]:
                tenant = tenant_get(slug=options["tenant"])
                if tenant is None:
                    raise CommandError(f'No tenant with slug "{options["tenant"]}".')
                tenants = [tenant]
            else:
                self.stdout.write(f"platform: {audit_purge()} removed")
                tenants = tenant_list()
            for tenant in each_tenant_schema(tenants):
                self.stdout.write(f"{tenant.slug}: {audit_purge()} removed")
