from core.idempotency import TTL, idempotency_records_purge

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
        self.purge_each_schema(idempotency_records_purge, slug=options["tenant"])
