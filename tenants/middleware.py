"""Route each request to its tenant's schema by host name."""

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import JsonResponse
from django_tenants.middleware.main import TenantMainMiddleware

from .models import TenantStatus
from .selectors import tenant_for_host


def _unknown_host() -> JsonResponse:
    return JsonResponse({"detail": "Unknown host.", "code": "tenant_not_found"}, status=404)


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' routing with a cached domain lookup and tenant status enforced.

    Unknown hosts and archived tenants answer a JSON 404 (never the public site);
    suspended tenants answer 403 with code `tenant_suspended`.
    """

    def process_request(self, request):
        connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return _unknown_host()
        tenant = tenant_for_host(hostname)
        if tenant is None or tenant.status == TenantStatus.ARCHIVED:
            return _unknown_host()
        if tenant.status == TenantStatus.SUSPENDED:
            return JsonResponse(
                {"detail": "This organisation is suspended. Contact support.", "code": "tenant_suspended"}, status=403
            )
        tenant.domain_url = hostname
        request.tenant = tenant
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None
