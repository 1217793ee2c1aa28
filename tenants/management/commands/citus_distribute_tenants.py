from django.core.management.base import CommandError
from django.db import DatabaseError

from tenants.citus import citus_check, citus_distribution_plan, citus_schema_distribute, citus_template_undistribute

from ._base import TenantCommand


class Command(TenantCommand):
    help = (
        "On a Citus coordinator: distribute every tenant schema (citus_schema_distribute), empty the "
        "coordinator's local copy of their rows, keep the template on the coordinator. Resumable: run it "
        "again after a failure or an interruption; what is done is skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Say what would be done; change nothing.")

    def run(self, *args, **options):
        dry = options["dry_run"]
        version = citus_check()
        plan = citus_distribution_plan()
        todo = [step for step in plan.steps if not step.done]
        self.stdout.write(
            f"Citus {version}: {len(plan.steps)} tenant schema(s), {len(plan.steps) - len(todo)} already distributed"
            + (" (dry run: nothing changes)" if dry else "")
        )
        if plan.template_distributed:
            if not dry:
                citus_template_undistribute(plan.template)
            moved = "would be brought" if dry else "brought"
            self.stdout.write(f"{plan.template}: template {moved} back to the coordinator")
        failed = []
        for step in todo:
            if dry:
                what = [f"distribute {step.tables} table(s)"] if step.distribute else []
                if step.leftovers:
                    what.append(f"empty the local copy of {len(step.leftovers)} table(s)")
                self.stdout.write(f"{step.slug}: would {' and '.join(what)}")
                continue
            try:
                emptied = citus_schema_distribute(step)
            except DatabaseError as exc:
                failed.append(step.slug)
                self.stderr.write(f"{step.slug}: failed, left as it was: {str(exc).splitlines()[0]}")
                continue
            done = ["distributed"] if step.distribute else []
            if emptied:
                done.append(f"local copy of {len(emptied)} table(s) emptied")
            self.stdout.write(f"{step.slug}: {', '.join(done)}")
        if failed:
            raise CommandError(
                f"{len(failed)} schema(s) failed ({', '.join(failed)}): run the command again to resume."
            )
        if not dry:
            self.stdout.write(self.style.SUCCESS("Every tenant schema is distributed."))
