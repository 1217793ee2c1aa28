"""Schemas kept by `delete_tenant` (without `--drop-schema`): list them, drop one, or
re-attach one to a new tenant row so its data is served again."""

from django.core.management.base import CommandError
from django.template.defaultfilters import filesizeformat

from tenants.selectors import leftover_schema_list, schema_pending_migrations, schema_size
from tenants.services import leftover_schema_drop, tenant_attach
from tenants.slugs import schema_name_for

from ._base import TenantCommand, confirm


class Command(TenantCommand):
    help = (
        "List schemas left over from deleted tenants; --drop SCHEMA drops one (and all its data); "
        "--attach SCHEMA --name ... --owner-email ... [--slug ...] makes it a tenant again."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--drop", metavar="SCHEMA", help="DROP this leftover schema and every row in it.")
        action.add_argument("--attach", metavar="SCHEMA", help="Create a tenant row, domain and owner for it.")
        parser.add_argument("--slug", help="With --attach: the tenant's slug (default: from the schema's name).")
        parser.add_argument("--name", help="With --attach: the tenant's name.")
        parser.add_argument("--owner-email", help="With --attach: the owner (an existing user, or a new one).")
        parser.add_argument("--owner-password", help="With --attach: a new owner's password (default: generated).")
        parser.add_argument("--domain", action="append", default=[], help="With --attach: an extra domain.")
        parser.add_argument("--plan", help="With --attach: a plan slug (default: DEFAULT_PLAN).")
        parser.add_argument("--yes", action="store_true", help="With --drop: do not ask for confirmation.")

    def run(self, *args, **options):
        if options["drop"]:
            return self._drop(options["drop"], options["yes"])
        if options["attach"]:
            return self._attach(options["attach"], options)
        schemas = leftover_schema_list()
        if not schemas:
            self.stdout.write("No leftover schema.")
            return
        for schema in schemas:
            pending = schema_pending_migrations(schema)
            state = f", {len(pending)} migration(s) behind" if pending else ""
            self.stdout.write(f"{schema}  {filesizeformat(schema_size(schema))}{state}")
        self.stdout.write(
            "Drop one with --drop SCHEMA, or serve it again with --attach SCHEMA --name ... --owner-email ..."
        )

    def _drop(self, schema: str, yes: bool) -> None:
        confirm(f'Drop schema "{schema}" with all its data?', expected=schema, yes=yes)
        leftover_schema_drop(schema_name=schema)
        self.stdout.write(self.style.SUCCESS(f'Dropped schema "{schema}".'))

    def _attach(self, schema: str, options) -> None:
        missing = [f"--{name.replace('_', '-')}" for name in ("name", "owner_email") if not options[name]]
        if missing:
            raise CommandError(f"--attach needs {' and '.join(missing)}.")
        result = tenant_attach(
            schema_name=schema,
            slug=options["slug"] or schema.replace("_", "-"),
            name=options["name"],
            owner_email=options["owner_email"],
            owner_password=options["owner_password"],
            extra_domains=tuple(options["domain"]),
            plan=options["plan"],
        )
        tenant = result.tenant
        self.stdout.write(self.style.SUCCESS(f'Attached schema "{schema}" as tenant {tenant.slug} at {result.host}.'))
        self.stdout.write(f"Owner: {result.owner.email}")
        if result.owner_password:
            self.stdout.write(f"Generated owner password (shown once): {result.owner_password}")
        if schema_name_for(tenant.slug) != schema:
            self.stdout.write(f'Its schema keeps the name "{schema}".')
        if pending := schema_pending_migrations(schema):
            self.stdout.write(
                self.style.WARNING(
                    f"The schema is {len(pending)} migration(s) behind: run "
                    f"`python manage.py migrate_schemas --schema {schema}` before its users come back."
                )
            )
