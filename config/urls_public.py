"""URLs of the public host (PUBLIC_DOMAIN): platform admin, sign-up, login, profile."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import urls as accounts_urls
from core.root import ApiRootView, RedocView, landing
from plans.api import urls as plans_urls
from tenants.api import urls as tenants_urls

admin.site.site_header = "Tessera operations"
admin.site.site_title = "Tessera"
admin.site.index_title = "Platform"

api_v1 = [
    *accounts_urls.public_urlpatterns,
    *tenants_urls.public_urlpatterns,
    *plans_urls.public_urlpatterns,
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", landing, name="index"),
    path("api/v1/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    # The split view serves its start-up script apart: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
