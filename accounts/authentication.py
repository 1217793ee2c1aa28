"""JWT authentication bound to the requesting host's tenant, a live membership and a
session that has not been signed out."""

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from core.errors import ApplicationError

from .selectors import user_for_request
from .tokens import token_check


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
    """

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
