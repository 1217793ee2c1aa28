"""URLs of every tenant host (<slug>.<PUBLIC_DOMAIN>): the tenant's API. No admin here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import urls as accounts_urls
from audit.api import urls as audit_urls
from core.root import ApiRootView, RedocView, tenant_index
from documents.api import urls as documents_urls
from events.api import urls as events_urls
from inventory.api import urls as inventory_urls
from plans.api import urls as plans_urls
from tenants.api import urls as tenants_urls

api_v1 = [
    *accounts_urls.tenant_urlpatterns,
    *tenants_urls.tenant_urlpatterns,
    *inventory_urls.urlpatterns,
    *documents_urls.urlpatterns,
    *plans_urls.urlpatterns,
    *audit_urls.urlpatterns,
    *events_urls.urlpatterns,
]

urlpatterns = [
    path("", tenant_index, name="index"),
    path("api/v1/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    # The split view serves its start-up script apart: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
