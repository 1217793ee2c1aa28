"""`manage.py documents_verify [--tenant slug] [--repair]`: storage against rows."""

from django.core.management.base import CommandError

from documents.services import documents_verify
from tenants.management.commands._base import TenantCommand


class Command(TenantCommand):
    help = (
        "Check that every blob's stored bytes hash to its name, every document has its bytes, "
        "and reference counts match; --repair sets wrong reference counts right. Exits 1 if "
        "anything is still wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant (default: every tenant).")
        parser.add_argument("--repair", action="store_true", help="Set wrong reference counts right.")

    def run(self, *args, **options):
        problems = 0
        for tenant in self.each_tenant(options["tenant"]):
            report = documents_verify(repair=options["repair"])
            for line in report.repaired:
                self.stdout.write(f"{tenant.slug}: repaired {line}")
            for line in report.problems:
                self.stdout.write(f"{tenant.slug}: {line}")
            problems += len(report.problems)
            summary = f"{tenant.slug}: {report.blobs} blob(s), {len(report.problems)} problem(s)"
            self.stdout.write(self.style.SUCCESS(summary) if not report.problems else self.style.WARNING(summary))
        if problems:
            raise CommandError(f"{problems} problem(s) found.")
