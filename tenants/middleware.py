"""Route each request to its tenant's schema by host name, or on the API host by header."""

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.utils.cache import patch_vary_headers
from django_tenants.middleware.main import TenantMainMiddleware

from core.exceptions import error_json_response
from core.localcache import stamps_prefetch

from .exceptions import TenantNotFound, TenantSuspended
from .models import TenantStatus, tenant_host
from .selectors import tenant_for_host
from .slugs import SLUG_PATTERN

TENANT_HEADER = "X-Tenant"


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' routing with a cached domain lookup and tenant status enforced.

    Unknown hosts and archived tenants answer a JSON 404 (never the public site);
    suspended tenants answer 403 with code `tenant_suspended`. Both are the same
    application errors the API raises, rendered before DRF runs.

    With TENANT_HEADER_ROUTING on, a request to TENANT_HEADER_HOST is routed as if it
    had been sent to `<X-Tenant>.<PUBLIC_DOMAIN>`: the same cached lookup (same key, same
    invalidation, same queries), the same status answers, and the tenant URLconf. The
    token check then compares the token with that tenant, as on its own host.

    A host in PUBLIC_HOST_ALIASES (127.0.0.1 in development) is served as PUBLIC_DOMAIN:
    the platform's admin and API, by either name.
    """

    def process_request(self, request):
        connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return error_json_response(TenantNotFound())
        if hostname in settings.PUBLIC_HOST_ALIASES:
            hostname = settings.PUBLIC_DOMAIN
        elif settings.TENANT_HEADER_ROUTING and hostname == settings.TENANT_HEADER_HOST:
            request.tenant_by_header = True
            hostname = self.hostname_from_header(request)
            if hostname is None:
                return error_json_response(TenantNotFound())
        stamps_prefetch(request)  # routing's, the plan's and the user's versions, in one round trip
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

    def process_response(self, request, response):
        # One URL answers for every tenant on the header host: shared caches must key on the header.
        if getattr(request, "tenant_by_header", False):
            patch_vary_headers(response, (TENANT_HEADER,))
        return response

    @staticmethod
    def hostname_from_header(request) -> str | None:
        """The tenant host that the X-Tenant header names, or None when it names none.

        Only a single DNS label is taken (the slug pattern), so the header can name
        `<slug>.<PUBLIC_DOMAIN>` and nothing else: no custom domain, no public host.
        """
        slug = request.headers.get(TENANT_HEADER, "").strip().lower()
        return tenant_host(slug) if SLUG_PATTERN.fullmatch(slug) else None
