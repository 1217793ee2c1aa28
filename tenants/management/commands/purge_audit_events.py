from django.conf import settings
from django_tenants.utils import tenant_context

from audit.services import audit_purge
from tenants.selectors import tenant_list

from ._base import TenantCommand


class Command(TenantCommand):
    """Lives in tenants because it loops over tenant schemas, which only tenants/ does;
    the purge itself is audit's (`audit.services.audit_purge`)."""

    help = "Delete audit rows older than AUDIT_RETENTION_DAYS: every tenant's trail and the platform log."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant's trail (slug).")

    def run(self, *args, **options):
        self.stdout.write(f"Removing audit rows older than {settings.AUDIT_RETENTION_DAYS} days.")
        if options["tenant"]:
            tenants = [self.tenant_or_fail(options["tenant"])]
        else:
            self.stdout.write(f"platform: {audit_purge()} removed")
            tenants = list(tenant_list())
        for tenant in tenants:
            with tenant_context(tenant):
                self.stdout.write(f"{tenant.slug}: {audit_purge()} removed")
