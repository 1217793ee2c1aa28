"""Reads of users and memberships, including the cached per-request membership check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.db.models import QuerySet

from .models import Membership, User

if TYPE_CHECKING:  # accounts sits below tenants: it names the type, never imports the code
    from tenants.models import Tenant


def membership_cache_key(tenant_id, user_id) -> str:
    return f"membership:{tenant_id}:{user_id}"


def revoked_token_key(jti: str) -> str:
    return f"revoked-jti:{jti}"


def membership_role(*, tenant_id, user_id) -> str | None:
    """The user's role in the tenant if the membership is active, else None (cached)."""
    cache = caches["platform"]
    key = membership_cache_key(tenant_id, user_id)
    cached = cache.get(key)
    if cached is None:
        cached = (
            Membership.objects.filter(tenant_id=tenant_id, user_id=user_id, is_active=True)
            .values_list("role", flat=True)
            .first()
        ) or ""
        cache.set(key, cached, settings.MEMBERSHIP_CACHE_TTL)
    return cached or None


def membership_role_and_revocation(*, tenant_id, user_id, jti: str) -> tuple[str | None, bool]:
    """One cache round trip for both per-request checks: role and access-token revocation."""
    cache = caches["platform"]
    role_key, revoked_key = membership_cache_key(tenant_id, user_id), revoked_token_key(jti)
    found = cache.get_many([role_key, revoked_key])
    revoked = bool(found.get(revoked_key))
    if role_key in found:
        return found[role_key] or None, revoked
    return membership_role(tenant_id=tenant_id, user_id=user_id), revoked


def membership_exists(*, tenant_id, user_id) -> bool:
    """Whether the user has a membership in the tenant, active or not (uncached)."""
    return Membership.objects.filter(tenant_id=tenant_id, user_id=user_id).exists()


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("joined_at")


def user_get_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=(email or "").strip()).first()
