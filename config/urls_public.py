"""URLs of the public host (PUBLIC_DOMAIN): platform admin, sign-up, login, profile."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api.urls import public_urlpatterns

admin.site.site_header = "Tessera operations"
admin.site.site_title = "Tessera"
admin.site.index_title = "Platform"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(public_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
