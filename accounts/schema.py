"""OpenAPI: declare TenantJWTAuthentication as the bearer-JWT scheme in the schema."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class TenantJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.TenantJWTAuthentication"
    name = "jwtAuth"
