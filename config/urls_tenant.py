"""URLs of every tenant host (<slug>.<PUBLIC_DOMAIN>): the tenant's API. No admin here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api.urls import tenant_urlpatterns
from audit.api.urls import urlpatterns as audit_urlpatterns
from inventory.api.urls import urlpatterns as inventory_urlpatterns
from tenants.api.views import TenantArchiveView, TenantView

api_v1 = [
    *tenant_urlpatterns,
    path("tenant/", TenantView.as_view(), name="tenant"),
    path("tenant/archive/", TenantArchiveView.as_view(), name="tenant-archive"),
    *inventory_urlpatterns,
    *audit_urlpatterns,
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
