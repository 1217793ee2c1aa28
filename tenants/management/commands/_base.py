"""What every tenant command shares: finding a tenant by slug, one-line errors."""

from collections.abc import Callable, Iterator

from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from core.commands import ServiceCommand
from tenants.models import Tenant
from tenants.selectors import tenant_get, tenant_list
from tenants.services import tenant_change_status


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
