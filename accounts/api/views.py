"""Auth (sign-in, invitations, password reset), profile, members and invitations
endpoints. Thin: validate, call a service, serialise."""

from collections.abc import Sequence

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Invitation, Membership
from accounts.selectors import MemberEntry
from accounts.tasks import password_reset_send
from accounts.throttles import (
    AuthThrottle,
    InvitationThrottle,
    LoginAccountThrottle,
    LoginIPThrottle,
    PasswordResetThrottle,
)
from accounts.tokens import tokens_logout, tokens_refresh
from core.http import base_url
from core.openapi import errors
from core.outbox.services import task_enqueue
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
    # Credentials in, tokens out: never stored or replayed (see core.idempotency).
    idempotency_exempt = True


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
    """Exchange a refresh token for a new pair, with the tenant and role a login answers.
    The old refresh token is blacklisted."""

    @extend_schema(request=s.TokenRefreshInputSerializer, responses={200: s.TokenPairSerializer, **errors(400, 401)})
    def post(self, request):
        data = s.TokenRefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = tokens_refresh(raw_refresh=data.validated_data["refresh"], tenant=request.tenant)
        return Response(s.TokenPairSerializer(session, context={"request": request}).data)


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
    """Accept an invitation with the token it e-mailed, creating your account with the
    password you choose; answers tokens for this tenant, as a login does. The token
    works once, on the inviting tenant's host, until the invitation expires. An address
    that has an account already answers 409 `email_taken`: sign in and accept it from
    `/me/invitations/` instead."""

    @extend_schema(
        request=s.InvitationAcceptSerializer, responses={200: s.TokenPairSerializer, **errors(400, 409, 429)}
    )
    def post(self, request):
        data = s.InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.invitation_accept_new_account(tenant=request.tenant, **data.validated_data)
        session = services.session_start(user=user, tenant=request.tenant, method="invitation")
        return Response(s.TokenPairSerializer(session, context={"request": request}).data)


@extend_schema(tags=["auth"])
class PasswordResetView(CredentialView):
    """Ask for a password-reset e-mail. Always 202, with the same work done whether or
    not an account has the address: the e-mail (a single-use token, expiring after
    PASSWORD_RESET_TTL_MINUTES) is sent by a background task. Throttled per client IP
    and per address."""

    throttle_classes = [AuthThrottle, PasswordResetThrottle]

    @extend_schema(request=s.PasswordResetRequestSerializer, responses={202: s.DetailSerializer, **errors(400, 429)})
    def post(self, request):
        data = s.PasswordResetRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Through the outbox: a broker that is down delays the e-mail, never the answer.
        task_enqueue(
            password_reset_send, email=data.validated_data["email"], link_base=base_url(request, settings.PUBLIC_DOMAIN)
        )
        body = {"detail": "If an account has this address, an e-mail with a reset token is on its way."}
        return Response(s.DetailSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["auth"])
class PasswordResetConfirmView(AuthThrottled, CredentialView):
    """Set a new password with the e-mailed reset token. The token works once; every
    session of the account ends (sign in again with the new password)."""

    @extend_schema(request=s.PasswordResetConfirmSerializer, responses={204: None, **errors(400, 429)})
    def post(self, request):
        data = s.PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        if "full_name" in data.validated_data:
            services.user_update(user=request.user, full_name=data.validated_data["full_name"])
        return Response(self._body(request))


@extend_schema(tags=["me"])
class PasswordChangeView(AuthThrottled, APIView):
    """Change your password. Every other token stops working; fresh tokens are returned."""

    permission_classes = [IsAuthenticated]
    idempotency_exempt = True  # answers with tokens (see core.idempotency)

    @extend_schema(request=s.PasswordChangeSerializer, responses={200: s.TokenPairSerializer, **errors(400, 401, 429)})
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_password_change(user=request.user, **data.validated_data)
        session = services.session_start(user=request.user, tenant=request.tenant, method="password_change")
        return Response(s.TokenPairSerializer(session, context={"request": request}).data)


def _member(membership: Membership) -> dict:
    return s.MemberSerializer(MemberEntry.of(membership)).data


def _invitation(invitation: Invitation) -> dict:
    return s.InvitationSerializer(MemberEntry.of(invitation)).data


@extend_schema(tags=["members"])
class MemberViewSet(viewsets.GenericViewSet):
    """Members of this tenant, and the invitations pending beside them. Reading needs
    membership; changes need admin or owner. Adding a member invites the address."""

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
    filter_backends: list = []  # the list takes its own query (MemberListQuerySerializer)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no tenant
            return Membership.objects.none()
        return selectors.member_list(tenant=self.request.tenant)

    def get_throttles(self):
        return [InvitationThrottle()] if self.action == "create" else super().get_throttles()

    @extend_schema(
        parameters=[s.MemberListQuerySerializer],
        responses={200: s.MemberSerializer(many=True), **errors(400, 401, 403)},
    )
    def list(self, request):
        """Members (`status` active) and pending invitations (`status` invited), in one
        paginated list. `?search=` matches e-mail addresses and names."""
        query = s.MemberListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.member_entry_list(tenant=request.tenant, **query.validated_data)
        page = self.paginate_queryset(rows)
        entries = selectors.member_entries_load(page if page is not None else rows)
        data = s.MemberSerializer(entries, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(responses={200: s.MemberSerializer, **errors(401, 403, 404)})
    def retrieve(self, request, pk=None):
        return Response(_member(self.get_object()))

    @extend_schema(
        request=s.MemberAddSerializer, responses={201: s.InvitationSerializer, **errors(400, 401, 403, 409, 429)}
    )
    def create(self, request):
        """Invite an address with a role. The answer is the same whether or not the
        address has an account; the person accepts the e-mailed invitation. 409 when the
        address is a member already (`already_member`) or invited already
        (`already_invited`: resend that one). Invitations sent per tenant are limited
        (THROTTLE_INVITATION): 429 with Retry-After."""
        data = s.MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            tenant=request.tenant,
            actor=request.user,
            actor_role=request.user.tenant_role,
            link_base=base_url(request, request.tenant.primary_host),
            **data.validated_data,
        )
        return Response(_invitation(invitation), status=status.HTTP_201_CREATED)

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
        return Response(_member(membership))

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
        return Response(_member(membership))


@extend_schema(tags=["members"])
class InvitationViewSet(viewsets.GenericViewSet):
    """This tenant's pending invitations (listed by `GET /members/`): revoke or resend."""

    serializer_class = s.InvitationSerializer
    permission_classes = [RoleByAction]
    role_by_action = {"destroy": Role.ADMIN, "resend": Role.ADMIN}
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no tenant
            return Invitation.objects.none()
        return selectors.invitation_list(tenant=self.request.tenant)

    def get_throttles(self):
        return [InvitationThrottle()] if self.action == "resend" else super().get_throttles()

    @extend_schema(responses={204: None, **errors(401, 403, 404)})
    def destroy(self, request, pk=None):
        """Revoke the invitation: its e-mailed token stops working."""
        services.invitation_revoke(
            invitation=self.get_object(), actor=request.user, actor_role=request.user.tenant_role
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: s.InvitationSerializer, **errors(401, 403, 404, 429)})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """E-mail the invitation again, with a new token and a new expiry (the previous
        e-mail's token stops working). Counts against the tenant's invitation limit."""
        invitation = services.invitation_resend(
            invitation=self.get_object(),
            actor=request.user,
            actor_role=request.user.tenant_role,
            link_base=base_url(request, request.tenant.primary_host),
        )
        return Response(_invitation(invitation))
