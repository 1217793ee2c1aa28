from tenants.services import tenant_change_status

from ._base import TenantCommand


class Command(TenantCommand):
    help = "Resume a tenant (see DESIGN.md: suspended answers 403, archived 404)."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle_tenant_command(self, *args, **options):
        tenant = tenant_change_status(tenant=self.tenant_or_fail(options["slug"]), change="resume")
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug} is now {tenant.status}."))
