"""Tenant endpoints, and the sign-in endpoints that pick a tenant: sign-up (which may
provision one), switching to another tenant, listing one's tenants and answering one's
invitations to others. Thin: validate, call a service or selector, serialise."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as account_services
from accounts.api.serializers import TokenPairSerializer
from accounts.api.views import CredentialView
from accounts.models import Invitation
from accounts.throttles import AuthThrottle, RegisterThrottle
from core.openapi import errors
from core.permissions import HasRole, IsPublicHost
from core.roles import Role
from tenants import selectors, services

from ..exceptions import RegistrationDisabled
from . import serializers as s


@extend_schema(tags=["tenant"])
class TenantView(APIView):
    """The current tenant: name, hosts, status and usage. Admins may rename it."""

    def get_permissions(self):
        return [HasRole(Role.ADMIN)()] if self.request.method == "PATCH" else [HasRole(Role.VIEWER)()]

    @extend_schema(responses={200: s.TenantSerializer, **errors(401, 403)})
    def get(self, request):
        tenant = selectors.tenant_fresh(request.tenant)
        return Response(s.TenantSerializer(tenant, context={"request": request}).data)

    @extend_schema(request=s.TenantUpdateSerializer, responses={200: s.TenantSerializer, **errors(400, 401, 403)})
    def patch(self, request):
        data = s.TenantUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_update(
            tenant=request.tenant, name=data.validated_data.get("name", request.tenant.name), actor=request.user
        )
        return Response(s.TenantSerializer(tenant, context={"request": request}).data)


@extend_schema(tags=["tenant"])
class TenantArchiveView(APIView):
    """Archive this tenant (owner only). Its hosts answer 404 until an operator resumes it."""

    permission_classes = [HasRole(Role.OWNER)]

    @extend_schema(request=s.TenantArchiveSerializer, responses={200: s.TenantSerializer, **errors(400, 401, 403, 409)})
    def post(self, request):
        data = s.TenantArchiveSerializer(data=request.data, context={"tenant": request.tenant})
        data.is_valid(raise_exception=True)
        tenant = services.tenant_change_status(tenant=request.tenant, change="archive", actor=request.user)
        return Response(s.TenantSerializer(tenant, context={"request": request}).data)


@extend_schema(tags=["auth"])
class RegisterView(CredentialView):
    """Self-service sign-up on the public host; optionally creates a tenant you own."""

    permission_classes = [AllowAny, IsPublicHost]
    throttle_classes = [RegisterThrottle]

    @extend_schema(request=s.RegisterSerializer, responses={201: s.RegisteredSerializer, **errors(400, 404, 409, 429)})
    def post(self, request):
        if not settings.ENABLE_REGISTRATION:
            raise RegistrationDisabled()
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registered = services.user_register(**data.validated_data, public=request.tenant)
        body = {"user": registered.user, "tenant": registered.tenant, **registered.session}
        return Response(s.RegisteredSerializer(body, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["auth"])
class SwitchView(APIView):
    """Tokens for another tenant you belong to, and that tenant's host to call next."""

    permission_classes = [IsAuthenticated]
    idempotency_exempt = True  # answers with tokens (see core.idempotency)

    @extend_schema(request=s.SwitchSerializer, responses={200: TokenPairSerializer, **errors(400, 401, 404)})
    def post(self, request):
        data = s.SwitchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.tenant_switch(user=request.user, slug=data.validated_data["tenant"])
        return Response(TokenPairSerializer(session, context={"request": request}).data)


@extend_schema(tags=["me"])
class MyTenantsView(APIView):
    """The tenants you can reach, with your role and each tenant's host."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.MyTenantSerializer(many=True), **errors(401)})
    def get(self, request):
        tenants = selectors.tenant_list_for_user(user=request.user)
        return Response(s.MyTenantSerializer(tenants, many=True, context={"request": request}).data)


@extend_schema(tags=["me"])
class MyInvitationViewSet(viewsets.GenericViewSet):
    """Invitations to your e-mail address, on any host you are signed in on: accept one
    (you become a member with its role) or decline it. Expired invitations and those of
    tenants not active are not shown; ask the tenant's admins to resend."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.MyInvitationSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Invitation.objects.none()
        return selectors.invitation_list_for_user(user=self.request.user)

    def get_throttles(self):
        return [AuthThrottle()] if self.action in ("accept", "decline") else super().get_throttles()

    @extend_schema(responses={200: s.MyInvitationSerializer(many=True), **errors(401)})
    def list(self, request):
        return Response(s.MyInvitationSerializer(self.get_queryset(), many=True, context={"request": request}).data)

    @extend_schema(request=None, responses={200: s.InvitationAcceptedSerializer, **errors(401, 404, 409, 429)})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Join the tenant with the invitation's role. 409 if you are a member already."""
        membership = account_services.invitation_accept(invitation=self.get_object(), user=request.user)
        body = {"tenant": membership.tenant, "role": membership.role}
        return Response(s.InvitationAcceptedSerializer(body, context={"request": request}).data)

    @extend_schema(request=None, responses={204: None, **errors(401, 404, 429)})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        account_services.invitation_decline(invitation=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
