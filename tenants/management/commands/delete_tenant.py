from django.core.management.base import CommandError

from tenants.selectors import leftover_schema_list, tenant_get
from tenants.services import leftover_schema_drop, tenant_delete
from tenants.slugs import schema_name_for

from ._base import TenantCommand, confirm


class Command(TenantCommand):
    help = (
        "Delete a tenant (row, domains, memberships); with --drop-schema also all its data. "
        "For a slug whose tenant is gone but whose schema was kept, --drop-schema drops that schema."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--drop-schema", action="store_true", help="Also DROP its schema and every row in it.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def run(self, *args, **options):
        slug, drop = options["slug"], options["drop_schema"]
        tenant = tenant_get(slug=slug)
        if tenant is None:
            return self._leftover(slug, drop=drop, yes=options["yes"])
        what = f'tenant "{tenant.slug}"' + (f' and schema "{tenant.schema_name}" with all its data' if drop else "")
        confirm(f"Delete {what}?", expected=tenant.slug, yes=options["yes"])
        tenant_delete(tenant=tenant, drop_schema=drop)
        kept = "" if drop else f' (schema "{tenant.schema_name}" kept; `leftover_schemas` lists it)'
        self.stdout.write(self.style.SUCCESS(f"Deleted {tenant.slug}{kept}."))

    def _leftover(self, slug: str, *, drop: bool, yes: bool) -> None:
        """No tenant row: its schema may still be there, kept by an earlier delete."""
        schema = schema_name_for(slug)
        if schema not in leftover_schema_list():
            raise CommandError(f'No tenant with slug "{slug}".')
        if not drop:
            raise CommandError(
                f'No tenant with slug "{slug}", but its schema "{schema}" was kept: drop it with '
                f"`delete_tenant {slug} --drop-schema`, or serve it again with "
                f"`leftover_schemas --attach {schema} --name ... --owner-email ...`."
            )
        question = f'Tenant "{slug}" is already deleted. Drop its kept schema "{schema}" with all its data?'
        confirm(question, expected=slug, yes=yes)
        leftover_schema_drop(schema_name=schema)
        self.stdout.write(self.style.SUCCESS(f'Dropped the kept schema "{schema}" of deleted tenant {slug}.'))
