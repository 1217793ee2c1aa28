"""Reads of users and memberships, including the cached per-request membership check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.db.models import QuerySet

from .models import Membership, RevokedSession, User

if TYPE_CHECKING:  # accounts sits below tenants: it names the type, never imports the code
    from tenants.models import Tenant

# A revocation answer is cached no longer than an access token lives.
_ACCESS_SECONDS = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


def membership_cache_key(tenant_id, user_id) -> str:
    return f"membership:{tenant_id}:{user_id}"


def session_revoked_key(sid: str) -> str:
    return f"session-revoked:{sid}"


@dataclass(frozen=True)
class MembershipState:
    """What a request on a tenant host needs to know: the active membership's id (tokens
    name it, so a removed and re-added member's old tokens stay dead) and role."""

    id: str
    role: str


def _membership_state_from_db(*, tenant_id, user_id) -> MembershipState | None:
    row = (
        Membership.objects.filter(tenant_id=tenant_id, user_id=user_id, is_active=True)
        .values_list("id", "role")
        .first()
    )
    return MembershipState(id=str(row[0]), role=row[1]) if row else None


def membership_state(*, tenant_id, user_id) -> MembershipState | None:
    """The active membership of the user in the tenant, or None (cached; signals drop
    the entry on any change to the membership)."""
    cache = caches["platform"]
    key = membership_cache_key(tenant_id, user_id)
    cached = cache.get(key)
    if cached is None:
        state = _membership_state_from_db(tenant_id=tenant_id, user_id=user_id)
        cache.set(key, (state.id, state.role) if state else "", settings.MEMBERSHIP_CACHE_TTL)
        return state
    return MembershipState(*cached) if cached else None


def membership_role(*, tenant_id, user_id) -> str | None:
    """The user's role in the tenant if the membership is active, else None (cached)."""
    state = membership_state(tenant_id=tenant_id, user_id=user_id)
    return state.role if state else None


def session_revoked(sid: str) -> bool:
    """Whether the session was signed out. The database answers; the cache remembers
    the answer for as long as an access token lives, so a lost cache costs one query."""
    cache = caches["platform"]
    key = session_revoked_key(sid)
    cached = cache.get(key)
    if cached is None:
        cached = RevokedSession.objects.filter(sid=sid).exists()
        cache.set(key, cached, _ACCESS_SECONDS)
    return cached


def request_auth_state(*, tenant_id, user_id, sid: str) -> tuple[MembershipState | None, bool]:
    """Both per-request checks in one cache round trip when warm: the membership (None
    on the public host, where `tenant_id` is None) and whether the session was revoked."""
    cache = caches["platform"]
    membership_key, revoked_key = membership_cache_key(tenant_id, user_id), session_revoked_key(sid)
    keys = [revoked_key] if tenant_id is None else [membership_key, revoked_key]
    found = cache.get_many(keys)
    revoked = found[revoked_key] if revoked_key in found else session_revoked(sid)
    if tenant_id is None:
        return None, revoked
    if membership_key in found:
        cached = found[membership_key]
        return (MembershipState(*cached) if cached else None), revoked
    return membership_state(tenant_id=tenant_id, user_id=user_id), revoked


def membership_exists(*, tenant_id, user_id) -> bool:
    """Whether the user has a membership in the tenant, active or not (uncached)."""
    return Membership.objects.filter(tenant_id=tenant_id, user_id=user_id).exists()


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("joined_at")


def user_get_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=(email or "").strip()).first()
