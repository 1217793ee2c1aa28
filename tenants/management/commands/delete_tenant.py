from django.core.management.base import CommandError

from tenants.services import tenant_delete

from ._base import TenantCommand


class Command(TenantCommand):
    help = "Delete a tenant (row, domains, memberships); with --drop-schema also all its data."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--drop-schema", action="store_true", help="Also DROP its schema and every row in it.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def run(self, *args, **options):
        tenant = self.tenant_or_fail(options["slug"])
        drop = options["drop_schema"]
        if not options["yes"]:
            what = f'tenant "{tenant.slug}"' + (f' and schema "{tenant.schema_name}" with all its data' if drop else "")
            try:
                answer = input(f"Delete {what}? Type the slug to confirm: ")
            except EOFError:
                answer = ""
            if answer.strip() != tenant.slug:
                raise CommandError("Not confirmed; nothing deleted. Use --yes to skip the question.")
        tenant_delete(tenant=tenant, drop_schema=drop)
        kept = "" if drop else f' (schema "{tenant.schema_name}" kept)'
        self.stdout.write(self.style.SUCCESS(f"Deleted {tenant.slug}{kept}."))
