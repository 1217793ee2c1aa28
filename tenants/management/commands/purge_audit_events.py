from django.conf import settings

from audit.services import audit_purge

from ._base import TenantCommand


class Command(TenantCommand):
    """Lives in tenants because it loops over tenant schemas, which only tenants/ does;
    the purge itself is audit's (`audit.services.audit_purge`)."""

    help = "Delete audit rows older than AUDIT_RETENTION_DAYS: every tenant's trail and the platform log."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant's trail (slug).")

    def run(self, *args, **options):
        self.stdout.write(f"Removing audit rows older than {settings.AUDIT_RETENTION_DAYS} days.")
        self.purge_each_schema(audit_purge, slug=options["tenant"])
