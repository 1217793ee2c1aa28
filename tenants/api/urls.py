from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

_router = SimpleRouter()
_router.register("me/invitations", views.MyInvitationViewSet, basename="my-invitation")

_common = [
    path("auth/switch/", views.SwitchView.as_view(), name="switch"),
    path("me/tenants/", views.MyTenantsView.as_view(), name="me-tenants"),
    *_router.urls,
]

public_urlpatterns = [
    *_common,
    path("auth/register/", views.RegisterView.as_view(), name="register"),
]

tenant_urlpatterns = [
    *_common,
    path("tenant/", views.TenantView.as_view(), name="tenant"),
    path("tenant/archive/", views.TenantArchiveView.as_view(), name="tenant-archive"),
]
