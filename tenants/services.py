"""Tenant lifecycle: provisioning, status changes, deletion. Each is one transaction.

Provisioning runs entirely inside one transaction (PostgreSQL DDL is transactional):
the tenant row, its cloned schema, its domains, the owner and the owner's membership
commit together or not at all, so a failure leaves nothing behind.
"""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from accounts.exceptions import MembershipNotFound
from accounts.models import User
from accounts.selectors import membership_role, user_get_by_email
from accounts.services import membership_create, session_start, user_create
from audit.services import audit_record
from core.errors import ApplicationError
from core.outbox.services import task_enqueue
from core.roles import Role
from plans.services import default_plan, plan_for_signup, plan_get

from .exceptions import (
    DomainTaken,
    InvalidDomain,
    InvalidSlug,
    InvalidTenantTransition,
    LeftoverSchemaNotFound,
    TenantExists,
)
from .metrics import measure_provisioning
from .models import Domain, Tenant, TenantStatus, host_refused, tenant_host
from .schemas import provisioning_lock, schema_clone_template, schema_drop
from .selectors import leftover_schema_list, tenant_get
from .slugs import schema_name_for, slug_problem
from .spares import SPARES_TOP_UP_TASK, spare_claim

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def _lifecycle_event(action: str, tenant: Tenant, actor: User | None, changes: dict, *, tenant_trail: bool = True):
    """Lifecycle events go to the platform log for operators and, while the schema
    exists, to the tenant's own trail for its admins."""
    audit_record(action=action, target=tenant, actor=actor, changes=changes, tenant=tenant, platform=True)
    if tenant_trail:
        audit_record(action=action, target=tenant, actor=actor, changes=changes, tenant=tenant)


@dataclass(frozen=True)
class Provisioned:
    tenant: Tenant
    owner: User
    owner_created: bool
    owner_password: str | None  # set only when one was generated for a new owner
    host: str


def _clean_domain(domain: str) -> str:
    domain = (domain or "").strip().lower().rstrip(".")
    if not _HOSTNAME.match(domain):
        raise InvalidDomain(f'"{domain}" is not a valid host name.')
    public = settings.PUBLIC_DOMAIN
    if domain == public or domain.endswith(f".{public}"):
        raise InvalidDomain(f"Custom domains cannot be {public} or one of its subdomains; those are tenant slugs.")
    if domain == settings.TENANT_HEADER_HOST:
        # Kept free even while header routing is off, so turning it on takes no tenant's host.
        raise InvalidDomain(f"{domain} is the API host (TENANT_HEADER_HOST), where X-Tenant names the tenant.")
    if problem := host_refused(domain):
        raise InvalidDomain(problem)
    return domain


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A tenant name is required.", field="name")
    if len(name) > 200:
        raise ApplicationError("Tenant name is longer than 200 characters.", field="name")
    return name


def tenant_slug_check(slug: str) -> None:
    """Refuse a slug that breaks the slug rules (InvalidSlug) or is taken by a tenant or
    by a schema left over from a deleted one (TenantExists). The admin form asks this
    too, so it answers what provisioning would."""
    problem = slug_problem(slug)
    if problem:
        raise InvalidSlug(problem)
    schema_name = schema_name_for(slug)
    if Tenant.objects.filter(slug=slug).exists() or Tenant.objects.filter(schema_name=schema_name).exists():
        raise TenantExists(f'A tenant with slug "{slug}" already exists.')
    if schema_exists(schema_name, case_sensitive=False):
        raise TenantExists(
            f'Schema "{schema_name}" is left over from a deleted tenant and still holds its data: '
            f"choose another slug, or see `manage.py leftover_schemas` to re-attach it "
            f"(`--attach {schema_name}`) or drop it (`--drop {schema_name}`)."
        )


def tenant_domains_check(domains) -> list[str]:
    """The extra domains cleaned (lowercase, no trailing dot, unique), or InvalidDomain /
    DomainTaken: what provisioning would refuse, for forms to ask first."""
    cleaned = list(dict.fromkeys(_clean_domain(domain) for domain in domains))
    taken = list(Domain.objects.filter(domain__in=cleaned).values_list("domain", flat=True))
    if taken:
        raise DomainTaken(f"Domain already in use: {', '.join(taken)}.")
    return cleaned


def _owner_for(
    *, owner: User | None, owner_email: str, owner_password: str | None, actor: User | None
) -> tuple[User, bool, str | None]:
    """`owner`, or the user with `owner_email`, created if new: (user, created, generated
    password when one was made)."""
    if owner is not None:
        return owner, False, None
    existing = user_get_by_email(owner_email)
    if existing is not None:
        return existing, False, None
    generated = None
    if owner_password is None:
        generated = owner_password = secrets.token_urlsafe(12)
    return user_create(email=owner_email, password=owner_password, actor=actor), True, generated


@measure_provisioning
@transaction.atomic
def tenant_provision(
    *,
    slug: str,
    name: str,
    owner: User | None = None,
    owner_email: str = "",
    owner_password: str | None = None,
    extra_domains: tuple[str, ...] = (),
    actor: User | None = None,
    plan: str | None = None,
) -> Provisioned:
    """Create a ready tenant: row, schema (cloned from the template), domains, owner,
    on `plan` (a plan slug; DEFAULT_PLAN when none is named).

    The owner is `owner`, or the user with `owner_email`, created if new (with
    `owner_password`, or a generated one that is returned once).
    """
    name, host, domains = _names_checked(slug=slug, name=name, extra_domains=extra_domains)
    schema_name = schema_name_for(slug)

    with schema_context(get_public_schema_name()):
        provisioning_lock()
        tenant_slug_check(slug)  # under the lock: a concurrent provisioning cannot take it meanwhile
        _domains_free(domains)
        owner, owner_created, generated = _owner_for(
            owner=owner, owner_email=owner_email, owner_password=owner_password, actor=actor
        )
        tenant = _tenant_row(schema_name=schema_name, slug=slug, name=name, plan=plan)
        if spare_claim(schema_name):
            task_enqueue(SPARES_TOP_UP_TASK)  # after the commit: the pool refills in a worker
        else:
            schema_clone_template(schema_name)
        _tenant_open(tenant=tenant, owner=owner, host=host, domains=domains, actor=actor)
    return Provisioned(tenant=tenant, owner=owner, owner_created=owner_created, owner_password=generated, host=host)


def _names_checked(*, slug: str, name: str, extra_domains) -> tuple[str, str, list[str]]:
    """A new tenant row's slug checked, its name cleaned, and its host and domains (the
    host first): what provisioning and attaching a kept schema both start from."""
    problem = slug_problem(slug)
    if problem:
        raise InvalidSlug(problem)
    host = tenant_host(slug)
    return _clean_name(name), host, [host, *dict.fromkeys(_clean_domain(d) for d in extra_domains)]


def _domains_free(domains: list[str]) -> None:
    taken = list(Domain.objects.filter(domain__in=domains).values_list("domain", flat=True))
    if taken:
        raise DomainTaken(f"Domain already in use: {', '.join(taken)}.")


def _tenant_row(*, schema_name: str, slug: str, name: str, plan: str | None) -> Tenant:
    chosen = plan_get(plan) if plan else default_plan()
    return Tenant.objects.create(schema_name=schema_name, slug=slug, name=name, plan=chosen)


def _tenant_open(*, tenant: Tenant, owner: User, host: str, domains: list[str], actor, **recorded) -> None:
    """The tenant's domains, its `tenant.provisioned` event (with `recorded` changes
    beside name, owner and domains) and the owner's membership."""
    Domain.objects.bulk_create(
        [Domain(domain=domain, tenant=tenant, is_primary=(domain == host)) for domain in domains]
    )
    changes = {"name": [None, tenant.name], "owner": [None, owner.email], "domains": [None, domains]}
    changes.update({key: [None, value] for key, value in recorded.items()})
    _lifecycle_event("tenant.provisioned", tenant, actor, changes)
    membership_create(tenant=tenant, user=owner, role=Role.OWNER, actor=actor)


# Which statuses each change may start from.
_TRANSITIONS = {
    "suspend": ({TenantStatus.ACTIVE}, TenantStatus.SUSPENDED, "tenant.suspended"),
    "resume": ({TenantStatus.SUSPENDED, TenantStatus.ARCHIVED}, TenantStatus.ACTIVE, "tenant.resumed"),
    "archive": ({TenantStatus.ACTIVE, TenantStatus.SUSPENDED}, TenantStatus.ARCHIVED, "tenant.archived"),
}


@transaction.atomic
def tenant_change_status(*, tenant: Tenant, change: str, actor: User | None = None) -> Tenant:
    """suspend (403 to its users), resume (back to active), archive (404 to its users)."""
    allowed_from, new_status, action = _TRANSITIONS[change]
    with schema_context(get_public_schema_name()):
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.is_public:
            raise InvalidTenantTransition("The public tenant cannot change status.")
        if tenant.status not in allowed_from:
            raise InvalidTenantTransition(f'Cannot {change} tenant "{tenant.slug}": it is {tenant.status}.')
        old_status = tenant.status
        tenant.status = new_status
        tenant.status_changed_at = timezone.now()
        tenant.save(update_fields=["status", "status_changed_at", "updated_at"])
        _lifecycle_event(action, tenant, actor, {"status": [old_status, new_status]})
    return tenant


@transaction.atomic
def tenant_update(*, tenant: Tenant, name: str, actor: User | None = None) -> Tenant:
    name = _clean_name(name)
    with schema_context(get_public_schema_name()):
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if name != tenant.name:
            old = tenant.name
            tenant.name = name
            tenant.save(update_fields=["name", "updated_at"])
            _lifecycle_event("tenant.updated", tenant, actor, {"name": [old, name]})
    return tenant


@transaction.atomic
def tenant_delete(*, tenant: Tenant, drop_schema: bool, actor: User | None = None) -> None:
    """Delete the tenant's row, domains and memberships; drop its schema only if asked.

    Kept schemas stay for backup or inspection, and block re-using the slug until dropped
    (`leftover_schema_drop`) or re-attached to a new tenant row (`tenant_attach`).
    """
    with schema_context(get_public_schema_name()):
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.is_public:
            raise InvalidTenantTransition("The public tenant cannot be deleted.")
        _lifecycle_event(
            "tenant.deleted",
            tenant,
            actor,
            {"schema": [tenant.schema_name, None if drop_schema else tenant.schema_name]},
            tenant_trail=False,
        )
        schema_name = tenant.schema_name
        tenant.delete()
        if drop_schema:
            schema_drop(schema_name)


def _leftover_locked(schema_name: str) -> None:
    """Take the provisioning lock (attach and drop must not race a provisioning that
    checks the same name), then make sure `schema_name` is a leftover schema."""
    provisioning_lock()
    if schema_name not in leftover_schema_list():
        raise LeftoverSchemaNotFound(
            f'No schema "{schema_name}" is left over from a deleted tenant (`manage.py leftover_schemas` lists them).'
        )


@transaction.atomic
def leftover_schema_drop(*, schema_name: str, actor: User | None = None) -> None:
    """Drop a schema kept by `tenant_delete` and every row in it: it frees its slug."""
    with schema_context(get_public_schema_name()):
        _leftover_locked(schema_name)
        audit_record(
            action="tenant.deleted",
            object_type="tenant",
            object_id=schema_name,
            actor=actor,
            changes={"schema": [schema_name, None], "leftover": True},
            platform=True,
        )
        schema_drop(schema_name)


@transaction.atomic
def tenant_attach(
    *,
    schema_name: str,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None = None,
    extra_domains: tuple[str, ...] = (),
    actor: User | None = None,
    plan: str | None = None,
) -> Provisioned:
    """A tenant row, domains and owner for a schema kept by `tenant_delete`, so its data
    is served again, as `tenant_provision` does for a cloned schema. The slug may be the
    schema's own name (hyphens for underscores) or any free one. Memberships other than
    the owner's were deleted with the tenant: the owner invites the others again."""
    name, host, domains = _names_checked(slug=slug, name=name, extra_domains=extra_domains)
    with schema_context(get_public_schema_name()):
        _leftover_locked(schema_name)
        if schema_name_for(slug) != schema_name:
            tenant_slug_check(slug)
        elif Tenant.objects.filter(slug=slug).exists():
            raise TenantExists(f'A tenant with slug "{slug}" already exists.')
        _domains_free(domains)
        owner, owner_created, generated = _owner_for(
            owner=None, owner_email=owner_email, owner_password=owner_password, actor=actor
        )
        tenant = _tenant_row(schema_name=schema_name, slug=slug, name=name, plan=plan)
        _tenant_open(tenant=tenant, owner=owner, host=host, domains=domains, actor=actor, attached_schema=schema_name)
    return Provisioned(tenant=tenant, owner=owner, owner_created=owner_created, owner_password=generated, host=host)


@dataclass(frozen=True)
class Registered:
    user: User
    tenant: Tenant | None
    session: dict  # tokens for the new tenant's host, or the public host without one


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    full_name: str = "",
    tenant_name: str = "",
    slug: str = "",
    plan: str = "",
    public: Tenant,
) -> Registered:
    """Self-service sign-up: a user, and with `tenant_name`/`slug` a tenant they own
    on `plan` (one offered at sign-up; DEFAULT_PLAN when empty), signed in on that
    tenant's host (or on the public host, `public`, without one).
    A tenants concern because it may provision; accounts alone makes the user."""
    if plan:
        plan_for_signup(plan)  # before anything is written
    user = user_create(email=email, password=password, full_name=full_name, self_service=True)
    tenant = None
    if slug:
        tenant = tenant_provision(slug=slug, name=tenant_name, owner=user, actor=user, plan=plan or None).tenant
    session = session_start(user=user, tenant=tenant or public, method="registration")
    return Registered(user=user, tenant=tenant, session=session)


def tenant_switch(*, user: User, slug: str) -> dict:
    """A session on another tenant the user is an active member of (`/auth/switch/`).
    An unknown, inactive or foreign tenant all answer the same MembershipNotFound."""
    tenant = tenant_get(slug=slug)
    if (
        tenant is None
        or tenant.status != TenantStatus.ACTIVE
        or membership_role(tenant_id=tenant.pk, user_id=user.pk) is None
    ):
        raise MembershipNotFound()
    return session_start(user=user, tenant=tenant, method="switch")
