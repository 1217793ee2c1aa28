"""Reads of tenants and domains, including the cached host -> tenant routing lookup."""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from accounts.models import Invitation, Membership, User, UserManager
from core.localcache import VersionedMemo, stamp, stamp_bump, stamp_register
from plans.services import entitlements

from .models import Domain, Tenant, TenantStatus

logger = logging.getLogger(__name__)

_ROUTING_FIELDS = ("id", "schema_name", "slug", "name", "status", "status_changed_at", "created_at", "updated_at")
# Bumped with every dropped route: the process-local copies are keyed by it.
_ROUTES_STAMP = stamp_register("route:version")
_routes = VersionedMemo("routes")


def _routing_key(hostname: str) -> str:
    return f"route:{hostname}"


def tenant_for_host(hostname: str) -> Tenant | None:
    """The tenant that `hostname` routes to, served from the platform cache when warm.

    The cached value is the tenant's plain fields (not a pickled model), rebuilt into a
    new persisted instance for each request; signals drop the entry when the tenant or
    any of its domains change, and the TTL bounds anything missed. The process keeps a
    copy too (`core.localcache`), under the routes' version, which every drop bumps: a
    warm request reads only that version, fetched with the other stamps.
    """
    version = stamp(_ROUTES_STAMP)
    cached = _routes.get((version, hostname)) if version else None
    if cached is None:
        cache = caches["platform"]
        cached = cache.get(_routing_key(hostname))
        if cached is None:
            domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
            if domain is None:
                return None
            cached = {field: getattr(domain.tenant, field) for field in _ROUTING_FIELDS}
            cache.set(_routing_key(hostname), cached, settings.TENANT_CACHE_TTL)
        if version:
            _routes.set((version, hostname), cached, settings.TENANT_CACHE_TTL)
    tenant = Tenant(**cached)
    tenant._state.adding = False
    tenant._state.db = "default"
    return tenant


def tenant_plan(tenant: Tenant) -> str:
    """The slug of the tenant's plan ("none" without one): the one place that answers
    it, for the metrics' `plan` label among others. Called on every request, so it
    reads the cached evaluation (no query once warm)."""
    return entitlements(tenant).plan or "none"


def routing_cache_forget(hostnames) -> None:
    """Drop the hosts' cached routes. While Redis is down this cannot be done (django-redis
    answers None instead of a count): said in the log, since a Redis that kept its data
    through the outage serves the old route for up to TENANT_CACHE_TTL after it."""
    hostnames = list(hostnames)
    cache: Any = caches["platform"]  # django-redis's delete_many answers a count (Django's stubs: None)
    dropped = cache.delete_many([_routing_key(host) for host in hostnames])
    # Then every process's own copies of routes (after: a copy taken between the two
    # is filed under the old version, and dies with it).
    stamp_bump(_ROUTES_STAMP)
    if dropped is None:
        logger.warning("Routing cache unreachable: %s may be routed from it for up to TENANT_CACHE_TTL.", hostnames)


def tenant_list(*, status: str | None = None) -> QuerySet[Tenant]:
    tenants = Tenant.objects.exclude(schema_name=get_public_schema_name())
    if status:
        tenants = tenants.filter(status=status)
    return tenants.order_by("slug")


def tenant_active_list() -> QuerySet[Tenant]:
    return tenant_list(status=TenantStatus.ACTIVE)


def tenant_active_get(*, schema_name: str) -> Tenant | None:
    """The active tenant of a schema, or None: what a task checks before it works there."""
    return tenant_active_list().filter(schema_name=schema_name).first()


def tenant_fresh(tenant: Tenant) -> Tenant:
    """The tenant's row as it is now (the routed tenant is rebuilt from the cache)."""
    return Tenant.objects.get(pk=tenant.pk)


def tenant_get(*, slug: str) -> Tenant | None:
    return tenant_list().filter(slug=slug).first()


def tenant_list_for_user(*, user: User) -> list[Tenant]:
    """The tenants `user` can reach right now (active tenant, active membership), each
    with the user's `role` in it, by slug."""
    memberships = (
        Membership.objects.filter(user=user, is_active=True, tenant__status=TenantStatus.ACTIVE)
        .select_related("tenant")
        .order_by("tenant__slug")
    )
    tenants = []
    for membership in memberships:
        membership.tenant.role = membership.role  # read by MyTenantSerializer
        tenants.append(membership.tenant)
    return tenants


def invitation_list_for_user(*, user: User) -> QuerySet[Invitation]:
    """The pending, unexpired invitations to the user's e-mail address, from active
    tenants, oldest first: what `/me/invitations/` shows and lets the user answer."""
    return (
        Invitation.objects.filter(
            email=UserManager.normalize_email(user.email),
            expires_at__gt=timezone.now(),
            tenant__status=TenantStatus.ACTIVE,
        )
        .select_related("tenant", "invited_by")
        .order_by("created_at")
    )


def leftover_schema_list() -> list[str]:
    """Schemas of deleted tenants that were kept (`delete_tenant` without `--drop-schema`):
    those holding a `django_migrations` table, as every tenant schema does, that no tenant
    row names. Not the public or template schema, nor PostgreSQL's own, nor the spare
    schemas waiting to be claimed (tenants.spares)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'django_migrations'"
            " AND table_schema NOT IN (%s, %s) AND table_schema NOT LIKE 'pg\\_%%'"
            " AND table_schema NOT LIKE '\\_spare\\_%%' ORDER BY table_schema",
            [get_public_schema_name(), settings.TENANT_TEMPLATE_SCHEMA],
        )
        schemas = [row[0] for row in cursor.fetchall()]
    live = set(Tenant.objects.filter(schema_name__in=schemas).values_list("schema_name", flat=True))
    return [schema for schema in schemas if schema not in live]


def schema_pending_migrations(schema_name: str) -> list[str]:
    """Migrations applied to the template schema but not to `schema_name`: what a kept
    schema misses before it can serve again (`migrate_schemas --schema` applies them)."""
    query = 'SELECT app, name FROM "{}".django_migrations'
    with connection.cursor() as cursor:
        cursor.execute(query.format(settings.TENANT_TEMPLATE_SCHEMA))
        template = {f"{app}.{name}" for app, name in cursor.fetchall()}
        cursor.execute(query.format(schema_name))
        applied = {f"{app}.{name}" for app, name in cursor.fetchall()}
    return sorted(template - applied)


def schema_size(schema_name: str) -> int:
    """Bytes on disk of every table (with indexes and TOAST) in `schema_name`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            [schema_name],
        )
        return int(cursor.fetchone()[0])
