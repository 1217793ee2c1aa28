from django.conf import settings
from django.db import transaction

from accounts.selectors import membership_exists, user_get_by_email
from accounts.services import membership_create, user_create
from core.http import public_base_url
from core.roles import Role
from tenants.demo import demo_data_seed
from tenants.models import tenant_host
from tenants.selectors import tenant_get
from tenants.services import tenant_provision

from ._base import TenantCommand

DEMO_PASSWORD = "tessera-demo-2026"
# Two plans to compare: acme has every module (webhooks included), globex the default.
DEMO_TENANTS = {"acme": ("Acme Corporation", "business"), "globex": ("Globex Industries", "team")}
OPERATOR_EMAIL = "operator@tessera.test"
# One person in both tenants, to try /auth/switch/.
SHARED_MEMBER_EMAIL = "alex@demo.test"


class Command(TenantCommand):
    help = "Create the demo tenants acme and globex with a user per role (idempotent) and print the logins."

    def run(self, *args, **options):
        with transaction.atomic():
            operator = user_get_by_email(OPERATOR_EMAIL) or user_create(
                email=OPERATOR_EMAIL, password=DEMO_PASSWORD, full_name="Pat Operator", is_staff=True
            )
            if not operator.is_superuser:
                operator.is_superuser = True
                operator.save(update_fields=["is_superuser"])
            shared = user_get_by_email(SHARED_MEMBER_EMAIL) or user_create(
                email=SHARED_MEMBER_EMAIL, password=DEMO_PASSWORD, full_name="Alex Both"
            )
            for slug, (name, plan) in DEMO_TENANTS.items():
                tenant = tenant_get(slug=slug)
                if tenant is None:
                    tenant = tenant_provision(
                        slug=slug, name=name, owner_email=f"owner@{slug}.test", owner_password=DEMO_PASSWORD, plan=plan
                    ).tenant
                for role in (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.VIEWER):
                    email = f"{role}@{slug}.test"
                    user = user_get_by_email(email) or user_create(
                        email=email, password=DEMO_PASSWORD, full_name=f"{slug.capitalize()} {role.capitalize()}"
                    )
                    if not membership_exists(tenant_id=tenant.pk, user_id=user.pk):
                        membership_create(tenant=tenant, user=user, role=role)
                if not membership_exists(tenant_id=tenant.pk, user_id=shared.pk):
                    membership_create(tenant=tenant, user=shared, role=Role.MEMBER)
                demo_data_seed(tenant)
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(self.style.SUCCESS("Demo ready. Every demo user's password: " + DEMO_PASSWORD))
        self.stdout.write(f"  admin site   {public_base_url(settings.PUBLIC_DOMAIN)}/admin/   {OPERATOR_EMAIL}")
        for slug, (_, plan) in DEMO_TENANTS.items():
            logins = ", ".join(f"{role}@{slug}.test" for role in Role.values)
            self.stdout.write(f"  {slug:<12} {public_base_url(tenant_host(slug))}/api/v1/   {logins} ({plan} plan)")
        self.stdout.write(f"  both tenants {SHARED_MEMBER_EMAIL} (member)")
