from django.urls import path

from . import views

_common = [
    path("auth/switch/", views.SwitchView.as_view(), name="switch"),
    path("me/tenants/", views.MyTenantsView.as_view(), name="me-tenants"),
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
