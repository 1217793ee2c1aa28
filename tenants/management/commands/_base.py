"""What every tenant command shares: finding a tenant by slug, one-line errors."""

from django.core.management.base import BaseCommand, CommandError

from core.context import meta_context
from core.errors import ApplicationError
from tenants.selectors import tenant_get


class TenantCommand(BaseCommand):
    """Runs `handle_tenant_command` with audit context "command" and DomainErrors as
    CommandError (exit status 1, one line on stderr)."""

    def handle(self, *args, **options):
        with meta_context(source="command"):
            try:
                return self.handle_tenant_command(*args, **options)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc

    def handle_tenant_command(self, *args, **options):
        raise NotImplementedError

    @staticmethod
    def tenant_or_fail(slug: str):
        tenant = tenant_get(slug=slug)
        if tenant is None:
            raise CommandError(f'No tenant with slug "{slug}".')
        return tenant
