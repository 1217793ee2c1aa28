"""Auth, profile and members endpoints. Thin: validate, call a service, serialise."""

from collections.abc import Sequence

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Membership
from accounts.throttles import AuthThrottle, LoginAccountThrottle, LoginIPThrottle
from accounts.tokens import tokens_logout, tokens_refresh
from core.openapi import errors
from core.permissions import OwnObjectOrRole, RoleByAction
from core.roles import Role

from . import serializers as s


class AuthThrottled:
    """Per client IP, on every host's shared budget (accounts.throttles)."""

    throttle_classes: Sequence[type[BaseThrottle]] = [AuthThrottle]


class CredentialView(APIView):
    """An endpoint that takes credentials in its body instead of a bearer token. Refused
    credentials are application errors answering 401 with a Bearer challenge."""

    permission_classes = [AllowAny]
    authentication_classes = []


@extend_schema(tags=["auth"])
class TokenObtainView(CredentialView):
    """Log in with e-mail and password. On a tenant host only its active members succeed.
    Throttled per account tried, across every host, and per client IP."""

    throttle_classes = [LoginIPThrottle, LoginAccountThrottle]

    @extend_schema(request=s.TokenObtainSerializer, responses={200: s.TokenPairSerializer, **errors(400, 401, 429)})
    def post(self, request):
        data = s.TokenObtainSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.login_attempt(request=request, tenant=request.tenant, **data.validated_data)
        session = services.session_start(user=user, tenant=request.tenant, method="password")
        return Response(s.TokenPairSerializer(session, context={"request": request}).data)


@extend_schema(tags=["auth"])
class TokenRefreshView(AuthThrottled, CredentialView):
    """Exchange a refresh token for a new pair. The old refresh token is blacklisted."""

    @extend_schema(
        request=s.TokenRefreshInputSerializer, responses={200: s.TokenRefreshOutputSerializer, **errors(400, 401)}
    )
    def post(self, request):
        data = s.TokenRefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(tokens_refresh(raw_refresh=data.validated_data["refresh"], tenant=request.tenant))


@extend_schema(tags=["auth"])
class LogoutView(AuthThrottled, APIView):
    """End the session of the refresh token (and of the access token sent, if another)."""

    permission_classes = [AllowAny]

    @extend_schema(request=s.TokenRefreshInputSerializer, responses={204: None, **errors(400, 401)})
    def post(self, request):
        data = s.TokenRefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens_logout(raw_refresh=data.validated_data["refresh"], tenant=request.tenant, access=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class InvitationAcceptView(AuthThrottled, CredentialView):
    """Accept an invitation e-mailed by member add: choose a password, get tokens."""

    @extend_schema(request=s.InvitationAcceptSerializer, responses={200: s.TokenPairSerializer, **errors(400, 429)})
    def post(self, request):
        data = s.InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.invitation_accept(tenant=request.tenant, **data.validated_data)
        session = services.session_start(user=user, tenant=request.tenant, method="invitation")
        return Response(s.TokenPairSerializer(session, context={"request": request}).data)


@extend_schema(tags=["me"])
class MeView(APIView):
    """Who you are, and your role in this host's tenant (null on the public host)."""

    permission_classes = [IsAuthenticated]

    def _body(self, request):
        tenant = None if request.tenant.is_public else request.tenant
        me = {"user": request.user, "tenant": tenant, "role": request.user.tenant_role}
        return s.MeSerializer(me, context={"request": request}).data

    @extend_schema(responses={200: s.MeSerializer, **errors(401)})
    def get(self, request):
        return Response(self._body(request))

    @extend_schema(request=s.ProfileUpdateSerializer, responses={200: s.MeSerializer, **errors(400, 401)})
    def patch(self, request):
        data = s.ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_update(user=request.user, full_name=data.validated_data["full_name"])
        return Response(self._body(request))


@extend_schema(tags=["me"])
class PasswordChangeView(AuthThrottled, APIView):
    """Change your password. Every other token stops working; fresh tokens are returned."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.PasswordChangeSerializer, responses={200: s.TokenPairSerializer, **errors(400, 401, 429)})
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_password_change(user=request.user, **data.validated_data)
        session = services.session_start(user=request.user, tenant=request.tenant, method="password_change")
        return Response(s.TokenPairSerializer(session, context={"request": request}).data)


@extend_schema(tags=["members"])
@extend_schema_view(
    list=extend_schema(responses={200: s.MemberSerializer(many=True), **errors(400, 401, 403)}),
    retrieve=extend_schema(responses={200: s.MemberSerializer, **errors(401, 403, 404)}),
)
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Members of this tenant. Reading needs membership; changes need admin or owner."""

    serializer_class = s.MemberSerializer
    # Anyone may leave; removing someone else needs admin (and the service's rank rules).
    permission_classes = [
        RoleByAction,
        OwnObjectOrRole(Role.ADMIN, actions=frozenset({"destroy"}), user_field="user_id", noun="membership"),
    ]
    role_by_action = {
        "create": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.VIEWER,
        "transfer_ownership": Role.OWNER,
    }
    filterset_fields = ["role", "is_active"]
    search_fields = ["user__email", "user__full_name"]
    ordering_fields = ["joined_at", "role", "user__email"]
    ordering = ["joined_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no tenant
            return Membership.objects.none()
        return selectors.member_list(tenant=self.request.tenant)

    @extend_schema(request=s.MemberAddSerializer, responses={201: s.MemberSerializer, **errors(400, 401, 403, 409)})
    def create(self, request):
        data = s.MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.member_add(
            tenant=request.tenant, actor=request.user, actor_role=request.user.tenant_role, **data.validated_data
        )
        return Response(s.MemberSerializer(added.membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.MemberUpdateSerializer, responses={200: s.MemberSerializer, **errors(400, 401, 403, 404, 409)}
    )
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        data = s.MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_update(
            membership=membership, actor=request.user, actor_role=request.user.tenant_role, **data.validated_data
        )
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(responses={204: None, **errors(401, 403, 404, 409)})
    def destroy(self, request, pk=None):
        membership = self.get_object()
        services.member_remove(membership=membership, actor=request.user, actor_role=request.user.tenant_role)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.OwnershipTransferSerializer, responses={200: s.MemberSerializer, **errors(400, 401, 403, 404, 409)}
    )
    @action(detail=False, methods=["post"], url_path="transfer-ownership")
    def transfer_ownership(self, request):
        data = s.OwnershipTransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.ownership_transfer(
            tenant=request.tenant, to_membership_id=data.validated_data["member"], actor=request.user
        )
        return Response(s.MemberSerializer(membership).data)
