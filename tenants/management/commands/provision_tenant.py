import json
import shlex

from core.http import public_base_url
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
        base = public_base_url(result.host)
        self.stdout.write(self.style.SUCCESS(f"Provisioned {result.tenant.slug}: {base}/api/v1/"))
        owner = f"Owner: {result.owner.email}" + (" (new user)" if result.owner_created else " (existing user)")
        self.stdout.write(owner)
        self.stdout.write(f"Plan: {result.tenant.plan.slug if result.tenant.plan else 'none'}")
        if result.owner_password:
            self.stdout.write(f"Generated owner password (shown once): {result.owner_password}")
        password = result.owner_password or options["owner_password"] or "<the owner's password>"
        self.stdout.write("Try it (a token, then a call with it):")
        for line in try_it_commands(base, result.owner.email, password):
            self.stdout.write(f"  {line}")


def try_it_commands(base: str, email: str, password: str) -> list[str]:
    """Shell lines that sign the owner in on the tenant's host and call the API with
    the access token: a first call that works, not one that answers 401."""
    credentials = shlex.quote(json.dumps({"email": email, "password": password}))
    extract = shlex.quote('import json,sys; print(json.load(sys.stdin)["access"])')
    return [
        f"TOKEN=$(curl -s {base}/api/v1/auth/token/ -H 'Content-Type: application/json' -d {credentials}"
        f" | python3 -c {extract})",
        f'curl -s {base}/api/v1/tenant/ -H "Authorization: Bearer $TOKEN"',
    ]
