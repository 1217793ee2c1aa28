"""What every tenant command shares: finding a tenant by slug, one-line errors."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from celery import current_app
from django.core.management.base import CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.commands import ServiceCommand
from tenants.jobs import job_period
from tenants.models import Tenant, TenantStatus
from tenants.selectors import tenant_active_list, tenant_get, tenant_list
from tenants.services import tenant_change_status
from tenants.tasks import tenant_job_run


def confirm(question: str, *, expected: str, yes: bool) -> None:
    """Ask the operator to type `expected` unless `yes`; anything else aborts."""
    if yes:
        return
    try:
        answer = input(f"{question} Type {expected} to confirm: ")
    except EOFError:
        answer = ""
    if answer.strip() != expected:
        raise CommandError("Not confirmed; nothing deleted. Use --yes to skip the question.")


class TenantCommand(ServiceCommand):
    """A command about tenants: application errors exit 1 with one line (ServiceCommand)."""

    @staticmethod
    def tenant_or_fail(slug: str) -> Tenant:
        tenant = tenant_get(slug=slug)
        if tenant is None:
            raise CommandError(f'No tenant with slug "{slug}".')
        return tenant

    def each_tenant(self, slug: str | None = None) -> Iterator[Tenant]:
        """Every tenant (or the one `slug` names), each yielded inside its own schema:
        the loop that commands of the domain apps use, so they never switch schema."""
        tenants = [self.tenant_or_fail(slug)] if slug else tenant_list()
        for tenant in tenants:
            with tenant_context(tenant):
                yield tenant

    def purge_each_schema(self, purge: Callable[[], int], *, slug: str | None) -> None:
        """Run `purge` in the public schema and in every tenant's, or in the one tenant
        `slug` names, printing how many rows each removed. The schema switch is here,
        in tenants/, so the purges themselves never switch."""
        if not slug:
            self.stdout.write(f"platform: {purge()} removed")
        for tenant in self.each_tenant(slug):
            self.stdout.write(f"{tenant.slug}: {purge()} removed")


class TenantStatusCommand(TenantCommand):
    """`suspend_tenant`, `resume_tenant`, `archive_tenant`: one command, three names."""

    change: str  # "suspend", "resume" or "archive", as tenant_change_status takes it

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def run(self, *args, **options):
        tenant = tenant_change_status(tenant=self.tenant_or_fail(options["slug"]), change=self.change)
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug} is now {tenant.status}."))


class TenantJobCommand(TenantCommand):
    """`send_weekly_reports`, `run_daily_cleanup`, `send_low_stock_alerts`: one
    scheduled job (tenants.jobs) on demand, for every active tenant or one.

    By default each tenant's run is queued for the workers, at once (no spread). With
    `--sync` it runs here, in this process, and so do the tasks it queues (e-mails):
    Celery's eager mode for the command's duration, so no worker or broker is needed.
    """

    job: str

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant (default: every active tenant).")
        parser.add_argument("--sync", action="store_true", help="Run here and now instead of queueing.")
        parser.add_argument(
            "--at", metavar="ISO-DATETIME", help="The period containing this moment (default: now, UTC)."
        )

    def run(self, *args, **options):
        moment = datetime.fromisoformat(options["at"]) if options["at"] else timezone.now()
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        start, end = job_period(self.job, moment)
        if options["tenant"]:
            tenant = self.tenant_or_fail(options["tenant"])
            if tenant.status != TenantStatus.ACTIVE:
                raise CommandError(f"{tenant.slug} is {tenant.status}: jobs run for active tenants only.")
            tenants = [(tenant.slug, tenant.schema_name)]
        else:
            tenants = list(tenant_active_list().values_list("slug", "schema_name"))
        period = {"period_start": start.isoformat(), "period_end": end.isoformat()}
        label = f"{self.job} for {start:%Y-%m-%d %H:%M}..{end:%Y-%m-%d %H:%M} UTC"
        for slug, schema_name in tenants:
            kwargs = {"job": self.job, "schema_name": schema_name, **period}
            if not options["sync"]:
                tenant_job_run.apply_async(kwargs=kwargs)
                self.stdout.write(f"{slug}: queued {label}")
                continue
            previous = current_app.conf.task_always_eager
            current_app.conf.task_always_eager = True
            try:
                done = tenant_job_run.apply(kwargs=kwargs, throw=True).get()
            finally:
                current_app.conf.task_always_eager = previous
            self.stdout.write(f"{slug}: {label}: " + ("; ".join(done) or "skipped (not active)"))
        if not tenants:
            self.stdout.write("No active tenant.")
