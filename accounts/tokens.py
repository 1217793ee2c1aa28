"""JWTs bound to one tenant: issuing, refreshing, revoking.

Every token carries `schema` (the tenant's schema, or "public" for the platform host)
and `tenant` (the slug, or null). Authentication refuses a token on any other host.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.core.cache import caches
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from audit.services import audit_record

from .exceptions import InvalidToken, TokenReused
from .models import User
from .selectors import membership_role, revoked_token_key

if TYPE_CHECKING:  # accounts sits below tenants: it names the type, never imports the code
    from tenants.models import Tenant

SCHEMA_CLAIM = "schema"
TENANT_CLAIM = "tenant"


def tokens_issue(*, user: User, tenant: Tenant) -> dict:
    refresh = RefreshToken.for_user(user)
    refresh[SCHEMA_CLAIM] = tenant.schema_name
    refresh[TENANT_CLAIM] = None if tenant.is_public else tenant.slug
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token_for(raw: str, *, tenant: Tenant) -> RefreshToken:
    try:
        refresh = RefreshToken(raw)  # type: ignore[arg-type]  # simplejwt takes the encoded token
    except TokenError as exc:
        payload = _signed_payload(raw)
        if payload and BlacklistedToken.objects.filter(token__jti=payload.get("jti")).exists():
            raise TokenReused(jti=payload["jti"], user_id=payload.get("user_id")) from exc
        raise InvalidToken(str(exc)) from exc
    if refresh.get(SCHEMA_CLAIM) != tenant.schema_name:
        raise InvalidToken("Token was not issued for this host.")
    return refresh


def _signed_payload(raw: str) -> dict | None:
    """The claims of a token whose signature is valid (expired or not), else None."""
    try:
        return token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - any decoding failure means "not ours"
        return None


def token_issued_before_cutoff(token, user: User) -> bool:
    """True when the user invalidated all tokens (password change) after this one was made."""
    cutoff = user.tokens_valid_after
    return bool(cutoff and datetime.fromtimestamp(token["iat"], tz=UTC) < cutoff.replace(microsecond=0))


def tokens_refresh(*, raw_refresh: str, tenant: Tenant) -> dict:
    """Rotate a refresh token: the old one is blacklisted, a reuse of it answers 401
    and is recorded (after the rotation's rollback, so the record stays)."""
    try:
        return _tokens_rotate(raw_refresh=raw_refresh, tenant=tenant)
    except TokenReused as reuse:
        user = User.objects.filter(pk=reuse.user_id).first()
        audit_record(
            action="auth.token_reuse",
            object_type="token_blacklist.outstandingtoken",
            object_id=reuse.jti,
            actor=user,
            tenant=tenant,
        )
        raise


@transaction.atomic
def _tokens_rotate(*, raw_refresh: str, tenant: Tenant) -> dict:
    refresh = _refresh_token_for(raw_refresh, tenant=tenant)
    user = User.objects.filter(pk=refresh.get("user_id"), is_active=True).first()
    if user is None or token_issued_before_cutoff(refresh, user):
        raise InvalidToken("No active account found for the given token.")
    if not tenant.is_public and membership_role(tenant_id=tenant.pk, user_id=user.pk) is None:
        raise InvalidToken("No active membership in this tenant.")
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
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def access_token_revoke(token: AccessToken) -> None:
    """Refuse this access token until it expires on its own."""
    remaining = int(token["exp"] - datetime.now(tz=UTC).timestamp())
    if remaining > 0:
        caches["platform"].set(revoked_token_key(token["jti"]), True, remaining)


@transaction.atomic
def tokens_logout(*, raw_refresh: str, tenant: Tenant, access: AccessToken | None = None) -> None:
    refresh = _refresh_token_for(raw_refresh, tenant=tenant)
    if access is not None and str(access.get("user_id")) != str(refresh.get("user_id")):
        raise InvalidToken("The refresh token belongs to another user.")
    refresh.blacklist()
    if access is not None:
        access_token_revoke(access)
    user = User.objects.filter(pk=refresh.get("user_id")).first()
    audit_record(
        action="auth.logout",
        object_type="accounts.user",
        object_id=str(refresh.get("user_id")),
        actor=user,
        tenant=tenant,
    )


def tokens_revoke_all(*, user: User) -> None:
    """Blacklist every outstanding refresh token of the user (password change, deactivation)."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
