from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import Membership
from accounts.selectors import user_get_by_email
from accounts.services import membership_create, user_create
from core.roles import Role
from tenants.schemas import tenant_schema
from tenants.selectors import tenant_get
from tenants.services import tenant_provision

from ._base import TenantCommand

DEMO_PASSWORD = "tessera-demo-2026"
DEMO_TENANTS = {"acme": "Acme Corporation", "globex": "Globex Industries"}
OPERATOR_EMAIL = "operator@tessera.test"
# One person in both tenants, to try /auth/switch/.
SHARED_MEMBER_EMAIL = "alex@demo.test"


class Command(TenantCommand):
    help = "Create the demo tenants acme and globex with a user per role (idempotent) and print the logins."

    def handle_tenant_command(self, *args, **options):
        with transaction.atomic():
            operator = user_get_by_email(OPERATOR_EMAIL) or user_create(
                email=OPERATOR_EMAIL, password=DEMO_PASSWORD, full_name="Platform Operator", is_staff=True
            )
            if not operator.is_superuser:
                operator.is_superuser = True
                operator.save(update_fields=["is_superuser"])
            shared = user_get_by_email(SHARED_MEMBER_EMAIL) or user_create(
                email=SHARED_MEMBER_EMAIL, password=DEMO_PASSWORD, full_name="Alex Both"
            )
            for slug, name in DEMO_TENANTS.items():
                tenant = tenant_get(slug=slug)
                if tenant is None:
                    tenant = tenant_provision(
                        slug=slug, name=name, owner_email=f"owner@{slug}.test", owner_password=DEMO_PASSWORD
                    ).tenant
                for role in (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.VIEWER):
                    email = f"{role}@{slug}.test"
                    user = user_get_by_email(email) or user_create(
                        email=email, password=DEMO_PASSWORD, full_name=f"{slug.capitalize()} {role.capitalize()}"
                    )
                    if not Membership.objects.filter(user=user, tenant=tenant).exists():
                        membership_create(tenant=tenant, user=user, role=role)
                if not Membership.objects.filter(user=shared, tenant=tenant).exists():
                    membership_create(tenant=tenant, user=shared, role=Role.MEMBER)
                with tenant_schema(tenant):
                    self._seed_inventory(slug)
        self._print_logins()

    @staticmethod
    def _seed_inventory(slug: str) -> None:
        """A few products, two warehouses, stock and an open purchase request, once."""
        from inventory.models import Product, Supplier, Warehouse
        from inventory.services import (
            catalogue_create,
            purchase_request_create,
            purchase_request_submit,
            stock_movement_record,
        )

        if Product.objects.exists():
            return
        main = catalogue_create(model=Warehouse, actor=None, code="MAIN", name="Main warehouse")
        east = catalogue_create(model=Warehouse, actor=None, code="EAST", name="East depot")
        supplier = catalogue_create(
            model=Supplier, actor=None, name=f"{slug.capitalize()} Supply Co", email="sales@supply.test"
        )
        catalogue = [
            ("BOLT-M8", "M8 bolt", "pcs", "200", "500"),
            ("NUT-M8", "M8 nut", "pcs", "200", "120"),
            ("WASHER-M8", "M8 washer", "pcs", "100", "0"),
            ("OIL-5L", "Machine oil 5 l", "can", "10", "14"),
            ("TAPE-50", "Duct tape 50 m", "roll", "20", "8"),
        ]
        products = {}
        for sku, name, unit, reorder, stock in catalogue:
            product = catalogue_create(
                model=Product, actor=None, sku=sku, name=name, unit=unit, reorder_level=Decimal(reorder)
            )
            products[sku] = product
            if Decimal(stock):
                stock_movement_record(
                    kind="receipt",
                    product=product,
                    to_warehouse=main,
                    quantity=Decimal(stock),
                    actor=None,
                    reference="opening stock",
                )
        stock_movement_record(
            kind="transfer",
            product=products["BOLT-M8"],
            from_warehouse=main,
            to_warehouse=east,
            quantity=Decimal("100"),
            actor=None,
        )
        purchase_request = purchase_request_create(
            supplier=supplier,
            actor=None,
            note="Restock fasteners",
            lines=[
                {"product": products["NUT-M8"], "quantity": Decimal("300"), "unit_price": Decimal("0.04")},
                {"product": products["WASHER-M8"], "quantity": Decimal("500"), "unit_price": Decimal("0.02")},
            ],
        )
        purchase_request_submit(purchase_request=purchase_request, actor=None)

    def _print_logins(self):
        port = ":8000" if settings.PUBLIC_DOMAIN == "localhost" else ""
        self.stdout.write(self.style.SUCCESS("Demo ready. Every demo user's password: " + DEMO_PASSWORD))
        self.stdout.write(f"  admin site   http://{settings.PUBLIC_DOMAIN}{port}/admin/   {OPERATOR_EMAIL}")
        for slug in DEMO_TENANTS:
            host = f"{slug}.{settings.PUBLIC_DOMAIN}{port}"
            logins = ", ".join(f"{role}@{slug}.test" for role in Role.values)
            self.stdout.write(f"  {slug:<12} http://{host}/api/v1/   {logins}")
        self.stdout.write(f"  both tenants {SHARED_MEMBER_EMAIL} (member)")
