"""JWTs bound to one tenant and one session: issuing, refreshing, revoking.

Every token carries:

- `schema` (the tenant's schema, or "public" for the platform host) and `tenant` (the
  slug, or null): authentication refuses a token on any other host;
- `sid`, its session: set at sign-in and kept across refresh rotations, so signing out
  ends every token of the session (RevokedSession, in the database);
- `ver`, the user's token version when it was issued: a password change bumps it and
  every older token dies at once, whatever second it was minted in;
- `mid` on tenant hosts, the membership it was issued through: removing a member and
  adding them again does not revive tokens issued before the removal.

The database is the source of truth for all three; the platform cache only remembers
its answers, so a cache loss costs queries, never a revoked token coming back. Nor does
a stale answer: every change bumps the user's `auth_version`, which names the cached
answers (accounts.selectors.request_auth_state), so none outlives a Redis outage.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from audit.services import audit_record, security_event_record

from .exceptions import InvalidToken, MembershipInactive, TokenReused, TokenRevoked, TokenWrongTenant
from .models import RevokedSession, User
from .selectors import membership_state, request_auth_state, user_cache_drop

if TYPE_CHECKING:  # accounts sits below tenants: it names the type, never imports the code
    from tenants.models import Tenant

SCHEMA_CLAIM = "schema"
TENANT_CLAIM = "tenant"
SESSION_CLAIM = "sid"
VERSION_CLAIM = "ver"
MEMBERSHIP_CLAIM = "mid"


def tokens_issue(*, user: User, tenant: Tenant) -> dict:
    """A new session's pair for `user` on `tenant`'s host."""
    refresh = RefreshToken.for_user(user)
    refresh[SCHEMA_CLAIM] = tenant.schema_name
    refresh[TENANT_CLAIM] = None if tenant.is_public else tenant.slug
    refresh[SESSION_CLAIM] = uuid.uuid4().hex
    refresh[VERSION_CLAIM] = user.token_version
    if not tenant.is_public:
        membership = membership_state(tenant_id=tenant.pk, user_id=user.pk)
        refresh[MEMBERSHIP_CLAIM] = membership.id if membership else None
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_check(token: Token, *, user: User, tenant: Tenant) -> str | None:
    """Refuse a token that is not (or no longer) good for `user` on `tenant`'s host;
    return the caller's role there (None on the public host). Used per request by the
    authenticator and on every refresh."""
    if token.get(SCHEMA_CLAIM) != tenant.schema_name:
        raise TokenWrongTenant()
    if token.get(VERSION_CLAIM) != user.token_version or not token.get(SESSION_CLAIM):
        raise TokenRevoked()
    membership, revoked = request_auth_state(
        tenant_id=None if tenant.is_public else tenant.pk, user=user, sid=token[SESSION_CLAIM]
    )
    if not tenant.is_public and (membership is None or membership.id != token.get(MEMBERSHIP_CLAIM)):
        raise MembershipInactive()
    if revoked:
        raise TokenRevoked()
    return membership.role if membership else None


def _refresh_token_for(raw: str, *, tenant: Tenant) -> RefreshToken:
    try:
        refresh = RefreshToken(raw)  # type: ignore[arg-type]  # simplejwt takes the encoded token
    except TokenError as exc:
        payload = _signed_payload(raw)
        if payload and BlacklistedToken.objects.filter(token__jti=payload.get("jti")).exists():
            raise TokenReused(jti=payload["jti"], user_id=payload.get("user_id")) from exc
        raise InvalidToken(str(exc)) from exc
    if refresh.get(SCHEMA_CLAIM) != tenant.schema_name:
        raise TokenWrongTenant()  # the code an access token on the wrong host answers
    return refresh


def _signed_payload(raw: str) -> dict | None:
    """The claims of a token whose signature is valid (expired or not), else None."""
    try:
        return token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - any decoding failure means "not ours"
        return None


def tokens_refresh(*, raw_refresh: str, tenant: Tenant) -> dict:
    """Rotate a refresh token: the old one is blacklisted, a reuse of it answers 401
    and is recorded (after the rotation's rollback, so the record stays). Returns
    `{access, refresh, tenant, role}`, as a login does (tenant and role None on the
    public host)."""
    try:
        return _tokens_rotate(raw_refresh=raw_refresh, tenant=tenant)
    except TokenReused as reuse:
        user = User.objects.filter(pk=reuse.user_id).first()
        security_event_record(kind="token_reuse", user=user, tenant=tenant, details={"jti": reuse.jti})
        audit_record(
            action="auth.token_reuse",
            object_type="refresh_token",
            object_id=reuse.jti,
            actor=user,
            tenant=tenant,
        )
        raise


@transaction.atomic
def _tokens_rotate(*, raw_refresh: str, tenant: Tenant) -> dict:
    refresh = _refresh_token_for(raw_refresh, tenant=tenant)
    user = User.objects.filter(pk=refresh.get("user_id"), is_active=True).first()
    if user is None:
        raise InvalidToken("No active account found for the given token.")
    # Refused with the codes authentication uses (token_wrong_tenant, token_revoked,
    # membership_inactive): a client handles an expired session the same either way.
    role = token_check(refresh, user=user, tenant=tenant)
    # Lock the token's row so two concurrent refreshes of one token cannot both succeed:
    # the second waits, then finds it blacklisted.
    outstanding = OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=refresh["jti"]).first()
    if outstanding is None:
        raise InvalidToken("Token is not known.")
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        raise TokenReused(jti=refresh["jti"], user_id=user.pk)
    BlacklistedToken.objects.create(token=outstanding)
    refresh.set_jti()
    refresh.set_exp()
    refresh.set_iat()
    refresh.outstand()
    return {
        "access": str(refresh.access_token),
        "refresh": str(refresh),
        "tenant": None if tenant.is_public else tenant,
        "role": role,
    }


def auth_state_changed(*, user_id) -> None:
    """A membership of the user changed, or a session of theirs was signed out: bump
    their `auth_version` in the caller's transaction, so the per-request checks stop
    reading the answers cached before (new keys; nothing to delete in Redis, which may
    be down). Concurrent requests that cached an answer under the old version are
    harmless for the same reason."""
    User.objects.filter(pk=user_id).update(auth_version=F("auth_version") + 1)
    user_cache_drop(user_id)  # an update() sends no signal


def _session_revoke(token: Token, *, user_id) -> None:
    """Sign the token's session out, durably; cached answers are dropped by version."""
    sid = token.get(SESSION_CLAIM)
    if not sid:
        return
    expires_at = datetime.fromtimestamp(token["exp"], tz=UTC)
    revoked, created = RevokedSession.objects.get_or_create(
        sid=sid, defaults={"user_id": user_id, "expires_at": expires_at}
    )
    if not created and revoked.expires_at < expires_at:
        revoked.expires_at = expires_at
        revoked.save(update_fields=["expires_at"])
    auth_state_changed(user_id=user_id)


@transaction.atomic
def tokens_logout(*, raw_refresh: str, tenant: Tenant, access: AccessToken | None = None) -> None:
    """End the refresh token's session (and the access token's, if another): every
    token of it is refused from now on, even after the cache is lost."""
    refresh = _refresh_token_for(raw_refresh, tenant=tenant)
    if access is not None and str(access.get("user_id")) != str(refresh.get("user_id")):
        raise InvalidToken("The refresh token belongs to another user.")
    refresh.blacklist()
    _session_revoke(refresh, user_id=refresh.get("user_id"))
    if access is not None and access.get(SESSION_CLAIM) != refresh.get(SESSION_CLAIM):
        _session_revoke(access, user_id=refresh.get("user_id"))
    user = User.objects.filter(pk=refresh.get("user_id")).first()
    audit_record(
        action="auth.logout",
        object_type="user",
        object_id=str(refresh.get("user_id")),
        actor=user,
        tenant=tenant,
    )


def tokens_revoke_all(*, user: User) -> None:
    """End every session of the user (password change or reset): bump the token version
    (the caller saves the user in its transaction) and blacklist outstanding refresh
    tokens, so they also show as used up in the blacklist tables."""
    user.token_version += 1
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
