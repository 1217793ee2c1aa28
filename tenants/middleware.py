"""Route each request to its tenant's schema by host name."""

from django.core.exceptions import DisallowedHost
from django.db import connection
from django_tenants.middleware.main import TenantMainMiddleware

from core.exceptions import error_json_response

from .exceptions import TenantNotFound, TenantSuspended
from .models import TenantStatus
from .selectors import tenant_for_host


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' routing with a cached domain lookup and tenant status enforced.

    Unknown hosts and archived tenants answer a JSON 404 (never the public site);
    suspended tenants answer 403 with code `tenant_suspended`. Both are the same
    application errors the API raises, rendered before DRF runs.
    """

    def process_request(self, request):
        connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return error_json_response(TenantNotFound())
        tenant = tenant_for_host(hostname)
        if tenant is None or tenant.status == TenantStatus.ARCHIVED:
            return error_json_response(TenantNotFound())
        if tenant.status == TenantStatus.SUSPENDED:
            return error_json_response(TenantSuspended())
        tenant.domain_url = hostname
        request.tenant = tenant
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None
