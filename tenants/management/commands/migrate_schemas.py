"""`migrate_schemas`, plus what makes a fresh database usable right after it, at the
scale of thousands of tenants.

Besides migrating public, it creates the public tenant with its PUBLIC_DOMAIN domain
(idempotently) and creates the template schema that new tenants are cloned from.

Tenant schemas (the template included) go through the migration ledger
(tenants/ledger.py): a schema the ledger shows at the code's migration state is
skipped without being opened, so a run with nothing to do costs one query for all
tenants. Every other schema is migrated in one transaction of its own (all of its
pending migrations or none) that also records it in the ledger, in parallel over
`--processes` worker processes (MIGRATION_PROCESSES, default: the machine's cores).
A schema that fails is recorded with its error and named at the end; the others go on,
and the command exits 1. Run it again to resume: what committed is skipped.

`--check` exits 1 naming every schema the ledger does not show as current (public is
checked against its own django_migrations). With `--schema`, an app label or a target
migration, it runs django-tenants' own path for that request; a migration to a chosen
target (a rollback) takes the schemas it touched out of the ledger, so the next full
run looks at them again.
"""

import multiprocessing
import sys

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django_tenants.management.commands.migrate_schemas import GET_EXECUTOR_FUNCTION, MigrateSchemasCommand
from django_tenants.utils import get_public_schema_name, schema_exists

from audit.services import audit_guard_install
from tenants.ledger import code_state, ledger_forget, ledger_migrated, schemas_behind
from tenants.migrating import worker_migrate, worker_start
from tenants.models import Domain, Tenant
from tenants.schemas import schema_create_on_coordinator, template_schema
from tenants.spares import spare_schema_list, spares_top_up


class Command(MigrateSchemasCommand):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="Tenant schemas migrated at once, each in a process of its own (default MIGRATION_PROCESSES).",
        )

    def handle(self, *args, **options):
        if options.get("check_unapplied"):
            return self._check()
        targeted = options.get("schema_name") or options.get("app_label")
        if targeted:
            return self._targeted(*args, **options)
        only_tenants = options.get("tenant")
        if not only_tenants:
            super().handle(*args, **{**options, "shared": True, "tenant": False})
            self._ensure_public_tenant()
            # The audit guard carries AUDIT_RETENTION_DAYS; keep it in step with settings.
            audit_guard_install()
        if not options.get("shared"):
            self._migrate_tenants(args, options)

    # --- the whole run ---------------------------------------------------------------

    def _migrate_tenants(self, args, options):
        connection.set_schema_to_public()
        if not schema_exists(template_schema()):
            schema_create_on_coordinator(template_schema())
        schemas = [template_schema(), *self._tenant_schemas()]
        behind = schemas_behind(schemas)
        verbose = int(options.get("verbosity", 1)) >= 1
        if not behind:
            if verbose:
                self.stdout.write(f"Tenant schemas: all {len(schemas)} up to date (migration ledger).")
            self._spares_top_up(verbose)
            return
        # The template first, alone: provisioning clones it, so it is never left behind.
        failed = self._run([template_schema()] if template_schema() in behind else [], args, options, processes=1)
        failed += self._run([name for name in behind if name != template_schema()], args, options)
        if verbose:
            self.stdout.write(
                f"Tenant schemas: {len(schemas) - len(behind)} up to date, "
                f"{len(behind) - len(failed)} migrated, {len(failed)} failed."
            )
        if failed:
            raise CommandError(f"Migrations failed in {len(failed)} schema(s): {', '.join(sorted(failed))}.")
        self._spares_top_up(verbose)

    def _spares_top_up(self, verbose: bool) -> None:
        """The pool of spare schemas refilled (tenants.spares), from the current template."""
        made = spares_top_up()
        if made and verbose:
            self.stdout.write(f"Spare schemas: {made} cloned ({settings.SPARE_SCHEMAS} kept ready).")

    def _run(self, names: list[str], args, options, processes: int | None = None) -> list[str]:
        if not names:
            return []
        processes = min(len(names), processes or options.get("processes") or settings.MIGRATION_PROCESSES)
        jobs = [(name, args, self._plain(options)) for name in names]
        if processes <= 1:
            results = map(worker_migrate, jobs)
            return self._report(results, len(names), options)
        connections.close_all()  # the workers open their own; no connection crosses a fork
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes, initializer=worker_start, initargs=(connection.settings_dict["NAME"],)) as pool:
            return self._report(pool.imap_unordered(worker_migrate, jobs), len(names), options)

    def _report(self, results, count: int, options) -> list[str]:
        failed = []
        verbose = int(options.get("verbosity", 1)) >= 1
        for done, (name, error, seconds) in enumerate(results, 1):
            if error:
                failed.append(name)
                self.stderr.write(f"[{done}/{count}] {name}: FAILED ({error})")
            elif verbose:
                self.stdout.write(f"[{done}/{count}] {name}: migrated in {seconds * 1000:.0f} ms")
        return failed

    @staticmethod
    def _plain(options) -> dict:
        """The options a worker process needs (the command's streams do not travel)."""
        return {key: value for key, value in options.items() if key not in ("stdout", "stderr")}

    def _tenant_schemas(self) -> list[str]:
        """The tenants' schemas, then the spare ones (tenants.spares): migrated alike."""
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("schema_name")
        return [*tenants.values_list("schema_name", flat=True), *spare_schema_list()]

    # --- --check and targeted runs ---------------------------------------------------

    def _check(self):
        connection.set_schema_to_public()
        behind = []
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            behind.append(get_public_schema_name())
        schemas = [template_schema(), *self._tenant_schemas()] if schema_exists(template_schema()) else []
        behind += schemas_behind(schemas)
        if not schema_exists(template_schema()):
            behind.append(template_schema())
        if behind:
            self.stderr.write(f"{len(behind)} schema(s) behind the code's migrations: {', '.join(behind)}")
            sys.exit(1)
        self.stdout.write(f"All {len(schemas) + 1} schemas are at the code's migrations (state {code_state()}).")

    def _targeted(self, *args, **options):
        requested = options.get("schema_name")
        super().handle(*args, **options)
        if self.sync_public and requested in (None, get_public_schema_name()):
            self._ensure_public_tenant()
            audit_guard_install()
        if self.sync_tenant and requested in (None, template_schema()):
            self._migrate_template()
        if options.get("app_label") or options.get("migration_name"):
            # Migrated to a chosen point, not the whole graph: look at them again next time.
            ledger_forget(*([requested] if requested else []))
        elif requested and requested != get_public_schema_name():
            connection.set_schema_to_public()
            ledger_migrated(requested)

    def _ensure_public_tenant(self):
        connection.set_schema_to_public()
        public, _ = Tenant.objects.get_or_create(
            schema_name=get_public_schema_name(), defaults={"slug": "public", "name": "Tessera platform"}
        )
        Domain.objects.get_or_create(domain=settings.PUBLIC_DOMAIN, defaults={"tenant": public, "is_primary": True})

    def _migrate_template(self):
        name = template_schema()
        connection.set_schema_to_public()
        if not schema_exists(name):
            schema_create_on_coordinator(name)
        executor = GET_EXECUTOR_FUNCTION(codename=self.executor)(self.args, self.options)
        executor.run_migrations(tenants=[name])
        connection.set_schema_to_public()
