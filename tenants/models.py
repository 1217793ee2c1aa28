import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http.request import validate_host
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name


def tenant_host(slug: str) -> str:
    """The host every tenant gets, `<slug>.<PUBLIC_DOMAIN>`: the one place it is spelled."""
    return f"{slug}.{settings.PUBLIC_DOMAIN}"


def host_refused(domain: str) -> str | None:
    """Why Django's host check (ALLOWED_HOSTS) would refuse requests to `domain`, before
    any tenant lookup, or None when it lets them through. A domain it refuses would be
    stored and never served: provisioning and the admin refuse it with this line."""
    if validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return f"{domain} is not in ALLOWED_HOSTS, so requests to it would be refused: add it there first."


class TenantStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    ARCHIVED = "archived", "Archived"


class Tenant(TenantMixin):
    """A customer organisation; its data lives in the PostgreSQL schema `schema_name`.

    Schemas are created by `tenants.services.tenant_provision` (a clone of the template
    schema inside the provisioning transaction), never implicitly on save.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=63, unique=True, help_text="Subdomain: <slug>.<PUBLIC_DOMAIN>")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=TenantStatus.choices, default=TenantStatus.ACTIVE, db_index=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, null=True, related_name="+")
    overrides = models.JSONField(
        default=dict, blank=True, help_text='{"modules": {"webhooks": true}, "quotas": {"products": 500}}'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return f"{self.name} ({self.slug})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == get_public_schema_name()

    @property
    def primary_host(self) -> str:
        """Where the tenant is served (custom domains come on top); PUBLIC_DOMAIN for public."""
        return settings.PUBLIC_DOMAIN if self.is_public else tenant_host(self.slug)


class Domain(DomainMixin):
    """A host name that routes to a tenant: `<slug>.<PUBLIC_DOMAIN>` plus custom domains."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def clean(self):
        # The admin's forms (tenant inline, domain page) validate through here. A domain
        # kept as it was is not judged again: a later ALLOWED_HOSTS must not lock the form.
        super().clean()
        domain = (self.domain or "").strip().lower()
        unchanged = not self._state.adding and Domain.objects.filter(pk=self.pk, domain=domain).exists()
        if domain and not unchanged and (problem := host_refused(domain)):
            raise ValidationError({"domain": problem})

    def __str__(self):
        return self.domain


# The migration ledger's model, defined beside its functions (tenants/ledger.py).
from .ledger import SchemaLedger  # noqa: E402, F401
