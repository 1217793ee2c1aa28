"""JWT authentication bound to the requesting host's tenant, a live membership and a
session that has not been signed out."""

from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from core.errors import ApplicationError

from .tokens import token_check


class TenantJWTAuthentication(JWTAuthentication):
    """simplejwt, plus `accounts.tokens.token_check`: the token's schema must be this
    host's, its session not signed out, its version the user's current one (password
    changes), and on a tenant host its membership the active one. Warm, that is one
    Redis round trip besides the user row simplejwt loads.

    The caller's role is attached as `request.user.tenant_role` for permission classes.
    Refusals are accounts' application errors; DRF wants AuthenticationFailed from an
    authenticator (it then marks the request anonymous), so they are handed over as
    that, with the same message and code.
    """

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
