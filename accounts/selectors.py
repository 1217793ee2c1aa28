"""Reads of users and memberships, including the cached per-request auth checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import CharField, F, Q, QuerySet, Value

from core.cache import cache_failed_within
from core.localcache import VersionedMemo, stamp, stamp_bump
from core.roles import RANK, at_least

from .models import CACHED_PASSWORD, Invitation, Membership, RevokedSession, User

if TYPE_CHECKING:  # accounts sits below tenants: it names the type, never imports the code
    from tenants.models import Tenant

# A revocation answer is cached as long as one access token of the session can live.
ACCESS_SECONDS = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
# Process-local copies (core.localcache), under the same versioned keys as in Redis:
# users' fields by (id, cache version); membership and sign-out answers by their key,
# which names the user's auth_version.
_users = VersionedMemo("users")
_auth_answers = VersionedMemo("auth-answers")


def user_cache_keys(user_id) -> tuple[str, str]:
    return f"user-version:{user_id}", f"user-fields:{user_id}"


def _user_from(fields: dict) -> User:
    """A persisted-looking user from its cached fields (a new instance per request:
    requests set attributes on theirs, `tenant_role` among them)."""
    user = User(**fields)
    user._state.adding, user._state.db = False, "default"
    return user


def user_for_request(user_id) -> User | None:
    """The user a token names, for authenticating one request: warm, one cache round
    trip (the user's version; the fields are then the process's own copy) and no SQL;
    else the row, which is then cached.

    The entry is tagged with the user's cache version, read before the row; every change
    to the user sets a new version when it commits (`user_cache_drop`), so an entry
    cached before the change, even one written by a request that read the row just
    before the change committed, no longer matches and is never served.

    A version write lost to a Redis failure would leave older entries matching, and
    Redis may come back holding them: a process that saw Redis fail reads the row for
    USER_CACHE_TTL seconds afterwards (`core.cache.cache_failed_within`), and any other
    process could read such an entry for at most USER_CACHE_TTL seconds (its lifetime).
    """
    if cache_failed_within(settings.USER_CACHE_TTL):
        return User.objects.filter(pk=user_id).first()
    cache = caches["platform"]
    version_key, user_key = user_cache_keys(user_id)
    version = stamp(version_key)  # usually fetched with routing's (accounts.apps); None: Redis down
    if version is None:
        return User.objects.filter(pk=user_id).first()
    fields = _users.get((user_id, version))
    if fields is not None:
        return _user_from(fields)
    cached = cache.get(user_key)
    if cached is not None and cached[0] == version:
        fields = cached[1]  # None: no such user
    else:
        user = User.objects.filter(pk=user_id).first()
        # No password hash in the caches: the copy checks no password (CACHED_PASSWORD);
        # services that check or change one load the row.
        fields = None if user is None else _cached_fields(user)
        cache.set(user_key, (version, fields), settings.USER_CACHE_TTL)
    if fields is None:
        return None
    _users.set((user_id, version), fields, settings.USER_CACHE_TTL)
    return _user_from(fields)


def _cached_fields(user: User) -> dict:
    return {**{f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}, "password": CACHED_PASSWORD}


def _user_cache_drop(user_id) -> None:
    version_key, _ = user_cache_keys(user_id)
    stamp_bump(version_key)


def user_cache_drop(user_id) -> None:
    """Make every cached copy of the user stale: at once (so later reads in the
    change's own transaction, and tests, see it) and again when the change commits (a
    request that read the row before the commit may have cached it meanwhile)."""
    _user_cache_drop(user_id)
    transaction.on_commit(lambda: _user_cache_drop(user_id))


_UNKNOWN = object()


def membership_cache_key(tenant_id, user_id, auth_version: int) -> str:
    return f"membership:{tenant_id}:{user_id}:{auth_version}"


def session_revoked_key(sid: str, auth_version: int) -> str:
    return f"session-revoked:{sid}:{auth_version}"


@dataclass(frozen=True)
class MembershipState:
    """What a request on a tenant host needs to know: the active membership's id (tokens
    name it, so a removed and re-added member's old tokens stay dead) and role."""

    id: str
    role: str


def membership_state(*, tenant_id, user_id) -> MembershipState | None:
    """The active membership of the user in the tenant, or None, from the database
    (sign-in and tenant switches; requests use `request_auth_state`)."""
    row = (
        Membership.objects.filter(tenant_id=tenant_id, user_id=user_id, is_active=True)
        .values_list("id", "role")
        .first()
    )
    return MembershipState(id=str(row[0]), role=row[1]) if row else None


def membership_role(*, tenant_id, user_id) -> str | None:
    """The user's role in the tenant if the membership is active, else None."""
    state = membership_state(tenant_id=tenant_id, user_id=user_id)
    return state.role if state else None


def session_revoked(sid: str) -> bool:
    """Whether the session was signed out, from the database."""
    return RevokedSession.objects.filter(sid=sid).exists()


def request_auth_state(*, tenant_id, user: User, sid: str) -> tuple[MembershipState | None, bool]:
    """Both per-request checks, the membership (None on the public host, where
    `tenant_id` is None) and whether the session was signed out: one cache round trip
    when warm, the database on a miss or while Redis is down.

    The keys carry the user's `auth_version`, read with the user's row that
    authentication loads anyway. Changing a membership or signing a session out bumps
    it in the same transaction (`accounts.tokens.auth_state_changed`): a later request
    looks up new keys, so an answer cached before the change can never be served, even
    one Redis kept through an outage in which its invalidation was lost. Nothing needs
    deleting; old keys expire (MEMBERSHIP_CACHE_TTL, ACCESS_SECONDS).
    """
    membership_key = membership_cache_key(tenant_id, user.pk, user.auth_version)
    revoked_key = session_revoked_key(sid, user.auth_version)
    keys = [revoked_key] if tenant_id is None else [membership_key, revoked_key]
    local = {key: value for key in keys if (value := _auth_answers.get(key, _UNKNOWN)) is not _UNKNOWN}
    found = dict(local)
    if len(found) < len(keys):
        found.update(caches["platform"].get_many([key for key in keys if key not in found]))  # {}: Redis down
    if revoked_key in found:
        revoked = found[revoked_key]
    else:
        revoked = session_revoked(sid)
        caches["platform"].set(revoked_key, revoked, ACCESS_SECONDS)
    if revoked_key not in local:
        _auth_answers.set(revoked_key, revoked, ACCESS_SECONDS)
    if tenant_id is None:
        return None, revoked
    if membership_key in found:
        cached = found[membership_key]
    else:
        state = membership_state(tenant_id=tenant_id, user_id=user.pk)
        cached = (state.id, state.role) if state else ""
        caches["platform"].set(membership_key, cached, settings.MEMBERSHIP_CACHE_TTL)
    if membership_key not in local:
        _auth_answers.set(membership_key, cached, settings.MEMBERSHIP_CACHE_TTL)
    return (MembershipState(*cached) if cached else None), revoked


def membership_exists(*, tenant_id, user_id) -> bool:
    """Whether the user has a membership in the tenant, active or not (uncached)."""
    return Membership.objects.filter(tenant_id=tenant_id, user_id=user_id).exists()


def member_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user", "invited_by").order_by("joined_at")


def invitation_list(*, tenant: Tenant) -> QuerySet[Invitation]:
    """The tenant's pending invitations, expired ones included (they can be resent)."""
    return Invitation.objects.filter(tenant=tenant).select_related("invited_by").order_by("created_at")


MEMBER_STATUS_ACTIVE, MEMBER_STATUS_INVITED = "active", "invited"


@dataclass(frozen=True)
class MemberEntry:
    """A row of the members list: a membership (`active`, whether or not `is_active`)
    or a pending invitation (`invited`: no user yet, no `is_active`, no `joined_at`)."""

    id: uuid.UUID
    status: str
    email: str
    role: str
    user: User | None
    is_active: bool | None
    invited_by: User | None
    joined_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Membership | Invitation) -> MemberEntry:
        if isinstance(row, Invitation):
            return cls(
                id=row.id,
                status=MEMBER_STATUS_INVITED,
                email=row.email,
                role=row.role,
                user=None,
                is_active=None,
                invited_by=row.invited_by,
                joined_at=None,
                expires_at=row.expires_at,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        return cls(
            id=row.id,
            status=MEMBER_STATUS_ACTIVE,
            email=row.user.email,
            role=row.role,
            user=row.user,
            is_active=row.is_active,
            invited_by=row.invited_by,
            joined_at=row.joined_at,
            expires_at=None,
            created_at=row.joined_at,
            updated_at=row.updated_at,
        )


# Orderings of the members list, by the name clients use (the memberships' field names).
MEMBER_ORDERINGS = {"joined_at": "sort_at", "role": "role", "user__email": "sort_email"}


def member_entry_list(
    *,
    tenant: Tenant,
    role: str | None = None,
    is_active: bool | None = None,
    status: str | None = None,
    search: str = "",
    ordering: str = "joined_at",
) -> QuerySet:
    """Members and pending invitations in one ordered, sliceable query (a UNION ALL of
    light rows `{id, kind, ...}`), so the paginator counts and slices in SQL; turn a
    page of it into entries with `member_entries_load`. Invitations sort by the time
    they were made where members sort by the time they joined. `is_active` concerns
    members only: giving it leaves invitations out."""
    members = Membership.objects.filter(tenant=tenant)
    invitations = Invitation.objects.filter(tenant=tenant)
    if role:
        members, invitations = members.filter(role=role), invitations.filter(role=role)
    if is_active is not None:
        members, invitations = members.filter(is_active=is_active), invitations.none()
    for term in search.replace(",", " ").split():
        members = members.filter(Q(user__email__icontains=term) | Q(user__full_name__icontains=term))
        invitations = invitations.filter(email__icontains=term)
    parts = {MEMBER_STATUS_ACTIVE: members, MEMBER_STATUS_INVITED: invitations}
    if status:
        parts = {status: parts[status]}
    light = [
        queryset.annotate(
            kind=Value(kind, output_field=CharField()),
            sort_at=F("joined_at" if kind == MEMBER_STATUS_ACTIVE else "created_at"),
            sort_email=F("user__email" if kind == MEMBER_STATUS_ACTIVE else "email"),
        )
        .values_list("id", "kind", "role", "sort_at", "sort_email")
        .order_by()
        for kind, queryset in parts.items()
    ]
    descending, name = ordering.startswith("-"), ordering.lstrip("-")
    column = MEMBER_ORDERINGS[name]
    combined = light[0].union(*light[1:], all=True) if len(light) > 1 else light[0]
    # The id breaks ties, so pages never overlap or skip rows.
    return combined.order_by(f"-{column}" if descending else column, "id")


def member_entries_load(rows: Iterable[Sequence]) -> list[MemberEntry]:
    """The entries of rows of `member_entry_list` (a page), in the rows' order."""
    rows = list(rows)
    ids = {kind: [row[0] for row in rows if row[1] == kind] for kind in (MEMBER_STATUS_ACTIVE, MEMBER_STATUS_INVITED)}
    found: dict = {
        **Membership.objects.select_related("user", "invited_by").in_bulk(ids[MEMBER_STATUS_ACTIVE]),
        **Invitation.objects.select_related("invited_by").in_bulk(ids[MEMBER_STATUS_INVITED]),
    }
    # A row deleted between the page's query and this one is left out.
    return [MemberEntry.of(found[row[0]]) for row in rows if row[0] in found]


def user_get_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=(email or "").strip()).first()


def member_emails(*, tenant: Tenant, minimum_role: str) -> list[str]:
    """Addresses of the tenant's active members of `minimum_role` or stronger: who a
    job's e-mail goes to (reports to admins and the owner, alerts to managers up)."""
    roles = [role for role in RANK if at_least(role, minimum_role)]
    return list(
        Membership.objects.filter(tenant=tenant, is_active=True, user__is_active=True, role__in=roles)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
