"""JWT authentication bound to the requesting host's tenant and to a live membership."""

from django.core.cache import caches
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from .selectors import membership_role_and_revocation, revoked_token_key
from .tokens import SCHEMA_CLAIM, token_issued_before_cutoff


class TenantJWTAuthentication(JWTAuthentication):
    """simplejwt, plus: the token's schema must be this host's, the access token must
    not be revoked (logout), the user must not have invalidated it (password change),
    and on a tenant host the membership must be active. The membership check and the
    revocation check are one Redis round trip; the user row is loaded as simplejwt does.

    The caller's role is attached as `request.user.tenant_role` for permission classes.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        tenant = request.tenant
        if token.get(SCHEMA_CLAIM) != tenant.schema_name:
            raise AuthenticationFailed("Token was not issued for this host.", code="token_wrong_tenant")
        if token_issued_before_cutoff(token, user):
            raise AuthenticationFailed("Token has been revoked.", code="token_revoked")
        if tenant.is_public:
            role, revoked = None, bool(caches["platform"].get(revoked_token_key(token["jti"])))
        else:
            role, revoked = membership_role_and_revocation(tenant_id=tenant.pk, user_id=user.pk, jti=token["jti"])
            if role is None:
                raise AuthenticationFailed("No active membership in this tenant.", code="membership_inactive")
        if revoked:
            raise AuthenticationFailed("Token has been revoked.", code="token_revoked")
        user.tenant_role = role
        return user, token
