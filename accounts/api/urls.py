from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

_common = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/switch/", views.SwitchView.as_view(), name="switch"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/tenants/", views.MyTenantsView.as_view(), name="me-tenants"),
    path("me/password/", views.PasswordChangeView.as_view(), name="me-password"),
]

public_urlpatterns = [
    *_common,
    path("auth/register/", views.RegisterView.as_view(), name="register"),
]

_router = SimpleRouter()
_router.register("members", views.MemberViewSet, basename="member")

tenant_urlpatterns = [
    *_common,
    path("auth/invitation/accept/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    *_router.urls,
]
