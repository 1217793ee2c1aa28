"""JWT authentication bound to the requesting host's tenant and to a live membership."""

from django.core.cache import caches
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from core.errors import ApplicationError

from .exceptions import MembershipInactive, TokenRevoked, TokenWrongTenant
from .selectors import membership_role_and_revocation, revoked_token_key
from .tokens import SCHEMA_CLAIM, token_issued_before_cutoff


class TenantJWTAuthentication(JWTAuthentication):
    """simplejwt, plus: the token's schema must be this host's, the access token must
    not be revoked (logout), the user must not have invalidated it (password change),
    and on a tenant host the membership must be active. The membership check and the
    revocation check are one Redis round trip; the user row is loaded as simplejwt does.

    The caller's role is attached as `request.user.tenant_role` for permission classes.
    Refusals are accounts' application errors; DRF wants AuthenticationFailed from an
    authenticator (it then marks the request anonymous), so they are handed over as
    that, with the same message and code.
    """

    def authenticate(self, request):
        try:
            return self._authenticate(request)
        except ApplicationError as exc:
            raise AuthenticationFailed(exc.message, code=exc.code) from exc

    def _authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        tenant = request.tenant
        if token.get(SCHEMA_CLAIM) != tenant.schema_name:
            raise TokenWrongTenant()
        if token_issued_before_cutoff(token, user):
            raise TokenRevoked()
        if tenant.is_public:
            role, revoked = None, bool(caches["platform"].get(revoked_token_key(token["jti"])))
        else:
            role, revoked = membership_role_and_revocation(tenant_id=tenant.pk, user_id=user.pk, jti=token["jti"])
            if role is None:
                raise MembershipInactive()
        if revoked:
            raise TokenRevoked()
        user.tenant_role = role
        return user, token
