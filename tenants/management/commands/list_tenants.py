from tenants.models import TenantStatus
from tenants.selectors import tenant_list

from ._base import TenantCommand


class Command(TenantCommand):
    help = "List tenants with status, schema and domains."

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=TenantStatus.values)

    def run(self, *args, **options):
        tenants = list(tenant_list(status=options["status"]).prefetch_related("domains"))
        if not tenants:
            self.stdout.write("No tenants.")
            return
        self.stdout.write(f"{'SLUG':<24} {'STATUS':<10} {'SCHEMA':<24} {'NAME':<28} DOMAINS")
        for tenant in tenants:
            domains = ",".join(sorted(d.domain for d in tenant.domains.all()))
            self.stdout.write(
                f"{tenant.slug:<24} {tenant.status:<10} {tenant.schema_name:<24} {tenant.name[:28]:<28} {domains}"
            )
