from django_tenants.utils import tenant_context

from core.idempotency import TTL, idempotency_records_purge
from tenants.selectors import tenant_list

from ._base import TenantCommand


class Command(TenantCommand):
    """Lives in tenants because it loops over tenant schemas, which only tenants/ does;
    the purge itself is the kernel's (`core.idempotency.idempotency_records_purge`).
    Expired keys are never replayed whether or not this runs: it only reclaims space."""

    help = "Delete Idempotency-Key records past their 24 hours: the public host's and every tenant's."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Only this tenant's records (slug).")

    def run(self, *args, **options):
        self.stdout.write(f"Removing Idempotency-Key records older than {TTL}.")
        if options["tenant"]:
            tenants = [self.tenant_or_fail(options["tenant"])]
        else:
            self.stdout.write(f"platform: {idempotency_records_purge()} removed")
            tenants = list(tenant_list())
        for tenant in tenants:
            with tenant_context(tenant):
                self.stdout.write(f"{tenant.slug}: {idempotency_records_purge()} removed")
