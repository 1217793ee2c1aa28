from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

_common = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/password/", views.PasswordChangeView.as_view(), name="me-password"),
]

# A password belongs to the account, not to a tenant: it is reset on the public host.
public_urlpatterns = [
    *_common,
    path("auth/password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("auth/password/reset/confirm/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
]

_router = SimpleRouter()
_router.register("members", views.MemberViewSet, basename="member")
_router.register("invitations", views.InvitationViewSet, basename="invitation")

tenant_urlpatterns = [
    *_common,
    path("auth/invitation/accept/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    *_router.urls,
]
