from django.conf import settings

from tenants.services import tenant_provision

from ._base import TenantCommand


class Command(TenantCommand):
    help = "Create a ready tenant (schema, domain, owner) in one atomic step and print its host."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Subdomain: lowercase letters, digits, hyphens.")
        parser.add_argument("--name", required=True, help="Display name.")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", help="For a new owner; generated and printed when omitted.")
        parser.add_argument("--domain", action="append", default=[], help="Extra custom domain (repeatable).")
        parser.add_argument("--plan", help="Plan slug (default: DEFAULT_PLAN).")

    def run(self, *args, **options):
        result = tenant_provision(
            slug=options["slug"],
            name=options["name"],
            owner_email=options["owner_email"],
            owner_password=options["owner_password"],
            extra_domains=tuple(options["domain"]),
            plan=options["plan"],
        )
        self.stdout.write(self.style.SUCCESS(f"Provisioned {result.tenant.slug}: http://{result.host}"))
        owner = f"Owner: {result.owner.email}" + (" (new user)" if result.owner_created else " (existing user)")
        self.stdout.write(owner)
        self.stdout.write(f"Plan: {result.tenant.plan.slug if result.tenant.plan else 'none'}")
        if result.owner_password:
            self.stdout.write(f"Generated owner password (shown once): {result.owner_password}")
        if settings.PUBLIC_DOMAIN == "localhost":
            self.stdout.write(f"Try: curl -H 'Host: {result.host}' http://127.0.0.1:8000/api/v1/tenant/")
