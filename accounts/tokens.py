"""JWTs bound to one tenant: issuing, refreshing, revoking.

Every token carries `schema` (the tenant's schema, or "public" for the platform host)
and `tenant` (the slug, or null). Authentication refuses a token on any other host.
"""

from datetime import UTC, datetime

from django.core.cache import caches
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from config.errors import DomainError
from tenants.models import Tenant

from .models import User
from .selectors import membership_role, revoked_token_key

SCHEMA_CLAIM = "schema"
TENANT_CLAIM = "tenant"


class InvalidToken(DomainError):
    status_code = 401
    code = "token_not_valid"
    default_message = "Token is invalid or expired."


def tokens_issue(*, user: User, tenant: Tenant) -> dict:
    refresh = RefreshToken.for_user(user)
    refresh[SCHEMA_CLAIM] = tenant.schema_name
    refresh[TENANT_CLAIM] = None if tenant.is_public else tenant.slug
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token_for(raw: str, *, tenant: Tenant) -> RefreshToken:
    try:
        refresh = RefreshToken(raw)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc
    if refresh.get(SCHEMA_CLAIM) != tenant.schema_name:
        raise InvalidToken("Token was not issued for this host.")
    return refresh


def token_issued_before_cutoff(token, user: User) -> bool:
    """True when the user invalidated all tokens (password change) after this one was made."""
    cutoff = user.tokens_valid_after
    return bool(cutoff and datetime.fromtimestamp(token["iat"], tz=UTC) < cutoff.replace(microsecond=0))


@transaction.atomic
def tokens_refresh(*, raw_refresh: str, tenant: Tenant) -> dict:
    """Rotate a refresh token: the old one is blacklisted, a reuse of it answers 401."""
    refresh = _refresh_token_for(raw_refresh, tenant=tenant)
    user = User.objects.filter(pk=refresh.get("user_id"), is_active=True).first()
    if user is None or token_issued_before_cutoff(refresh, user):
        raise InvalidToken("No active account found for the given token.")
    if not tenant.is_public and membership_role(tenant_id=tenant.pk, user_id=user.pk) is None:
        raise InvalidToken("No active membership in this tenant.")
    # Lock the token's row so two concurrent refreshes of one token cannot both succeed:
    # the second waits, then finds it blacklisted.
    outstanding = OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=refresh["jti"]).first()
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise InvalidToken("Token is blacklisted.")
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


def tokens_logout(*, raw_refresh: str, tenant: Tenant, access: AccessToken | None = None) -> None:
    refresh = _refresh_token_for(raw_refresh, tenant=tenant)
    if access is not None and str(access.get("user_id")) != str(refresh.get("user_id")):
        raise InvalidToken("The refresh token belongs to another user.")
    refresh.blacklist()
    if access is not None:
        access_token_revoke(access)


def tokens_revoke_all(*, user: User) -> None:
    """Blacklist every outstanding refresh token of the user (password change, deactivation)."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
