"""JWT authentication bound to the requesting host's tenant, a live membership and a
session that has not been signed out."""

from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow

from core.errors import ApplicationError
from core.localcache import VersionedMemo

from .selectors import user_cache_keys, user_for_request
from .tokens import token_check

_validated = VersionedMemo("tokens")


def user_version_to_prefetch(request) -> list[str]:
    """The user's cache version key, when this process already validated the request's
    bearer token: fetched with routing's stamps (core.localcache), which saves
    authentication its own round trip. A token never seen here names nothing: its
    claims are not read before its signature is checked."""
    kind, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if kind != "Bearer" or not raw:
        return []
    token = _validated.get(raw.encode())
    return [] if token is None else [user_cache_keys(token[api_settings.USER_ID_CLAIM])[0]]


class TenantJWTAuthentication(JWTAuthentication):
    """simplejwt, plus `accounts.tokens.token_check`: the token's schema must be this
    host's, its session not signed out, its version the user's current one (password
    changes), and on a tenant host its membership the active one. Warm, that is one
    Redis round trip besides the user, which comes from the cache too
    (`accounts.selectors.user_for_request`): no SQL at all once warm.

    The caller's role is attached as `request.user.tenant_role` for permission classes.
    Refusals are accounts' application errors; DRF wants AuthenticationFailed from an
    authenticator (it then marks the request anonymous), so they are handed over as
    that, with the same message and code.

    A token whose signature and claims were checked once is kept by the process for
    its remaining lifetime (`core.localcache`, keyed by the token itself: the same bytes
    always verify the same way), so a client's later requests skip decoding and the
    HMAC; the expiry is checked on every request all the same.
    """

    def get_validated_token(self, raw_token):
        token = _validated.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
                return token
            except TokenError:
                pass  # expired since: simplejwt's own check answers, with its message
        token = super().get_validated_token(raw_token)
        lifetime = token["exp"] - aware_utcnow().timestamp()
        _validated.set(raw_token, token, min(lifetime, settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()))
        return token

    def get_user(self, validated_token):
        """simplejwt's, with the user from `user_for_request` rather than a query."""
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        user = user_for_request(user_id)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        try:
            user.tenant_role = token_check(token, user=user, tenant=request.tenant)
        except ApplicationError as exc:
            raise AuthenticationFailed(exc.message, code=exc.code) from exc
        return user, token
