"""factory_boy factories for tenants (public schema).

`TenantFactory()` provisions a real tenant through `tenants.services.tenant_provision`:
the row, a schema cloned from the template, its host and an owner (a new user unless
`owner=` is given). Made inside a test's transaction, all of it rolls back with the
test, schema included (PostgreSQL DDL is transactional), so a test may make tenants of
its own to suspend, archive or fill, and leave the shared `tenant_a`/`tenant_b` alone.
(Under `transactional_db` the schema would outlive the test: drop it there.)
"""

import factory

from accounts.tests.factories import UserFactory
from tenants.models import Domain, Tenant, TenantStatus
from tenants.services import tenant_provision


class TenantFactory(factory.django.DjangoModelFactory):
    """`status=` other than active is written directly after provisioning, without the
    status service or its events: a starting point for tests, not a transition."""

    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"t-{n}")
    name = factory.LazyAttribute(lambda o: f"Tenant {o.slug}")
    owner = factory.SubFactory(UserFactory)
    status = TenantStatus.ACTIVE

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("A tenant without its schema is not a tenant: use TenantFactory() (create).")

    @classmethod
    def _create(cls, model_class, *args, status, **kwargs):
        tenant = tenant_provision(**kwargs).tenant
        if status != TenantStatus.ACTIVE:
            Tenant.objects.filter(pk=tenant.pk).update(status=status)
            tenant.status = status
        return tenant


class DomainFactory(factory.django.DjangoModelFactory):
    """An extra custom domain: `DomainFactory(tenant=t)`."""

    class Meta:
        model = Domain

    domain = factory.Sequence(lambda n: f"d{n}.example.test")
    is_primary = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("tenant") is None:
            raise TypeError("DomainFactory needs tenant=: a domain routes to one tenant.")
        return super()._create(model_class, *args, **kwargs)
