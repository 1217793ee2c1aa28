from rest_framework import serializers

from accounts.models import User
from accounts.selectors import MEMBER_ORDERINGS, MEMBER_STATUS_ACTIVE, MEMBER_STATUS_INVITED
from core.http import base_url
from core.roles import ASSIGNABLE_ROLE_CHOICES, Role
from core.serializers import BooleanField, EmailField, ModelSerializer, QuerySerializer, SlugField, StringField

MEMBER_STATUS_CHOICES = [(MEMBER_STATUS_ACTIVE, "Member"), (MEMBER_STATUS_INVITED, "Invited, not yet accepted")]


class UserSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "date_joined"]
        read_only_fields = fields


class UserBriefSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


# The one tenant serializer: tenants.api.serializers extends it, so id, slug, name, host
# and url read the same in tokens, profiles and the tenant's own endpoint.
class TenantRefSerializer(serializers.Serializer):
    """A tenant: its id, slug, name, host and base URL."""

    id = serializers.UUIDField(read_only=True)
    slug = SlugField(read_only=True, help_text="Subdomain: <slug>.<PUBLIC_DOMAIN>")
    name = StringField(read_only=True)
    host = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_host(self, tenant) -> str:
        return tenant.primary_host

    def get_url(self, tenant) -> str:
        return base_url(self.context["request"], tenant.primary_host)


class MeSerializer(serializers.Serializer):
    user = UserSerializer(read_only=True)
    tenant = TenantRefSerializer(read_only=True, allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)


class ProfileUpdateSerializer(serializers.Serializer):
    """PATCH: every field optional; what is left out stays as it is."""

    full_name = StringField(max_length=200, allow_blank=True, required=False)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = StringField(write_only=True, max_length=128, trim_whitespace=False)
    new_password = StringField(write_only=True, max_length=128, trim_whitespace=False)


class TokenObtainSerializer(serializers.Serializer):
    email = StringField(max_length=254)
    password = StringField(max_length=128, trim_whitespace=False, write_only=True)


class TokenPairSerializer(serializers.Serializer):
    access = StringField(read_only=True)
    refresh = StringField(read_only=True)
    tenant = TenantRefSerializer(read_only=True, allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)


class TokenRefreshInputSerializer(serializers.Serializer):
    refresh = StringField(max_length=2048)


class InvitationAcceptSerializer(serializers.Serializer):
    token = StringField(max_length=128, help_text="The token of the invitation e-mail.")
    password = StringField(max_length=128, trim_whitespace=False, write_only=True)
    full_name = StringField(max_length=200, required=False, allow_blank=True, default="")


class DetailSerializer(serializers.Serializer):
    detail = StringField(read_only=True)


class PasswordResetRequestSerializer(serializers.Serializer):
    email = EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = StringField(max_length=128, help_text="The token of the password-reset e-mail.")
    password = StringField(max_length=128, trim_whitespace=False, write_only=True)


# Both read an `accounts.selectors.MemberEntry`, made of a membership or an invitation.
class InvitationSerializer(serializers.Serializer):
    """A pending invitation: it names the address invited, never an account."""

    id = serializers.UUIDField(read_only=True)
    email = EmailField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    status = serializers.ChoiceField(choices=MEMBER_STATUS_CHOICES, read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    invited_by = UserBriefSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class MemberSerializer(InvitationSerializer):
    """A row of the members list: a member (`status` active; `is_active` says whether
    enabled) or a pending invitation (`status` invited; `user`, `is_active` and
    `joined_at` null, `expires_at` set)."""

    user = UserBriefSerializer(read_only=True, allow_null=True)
    is_active = serializers.BooleanField(read_only=True, allow_null=True)
    joined_at = serializers.DateTimeField(read_only=True, allow_null=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True)


class MemberListQuerySerializer(QuerySerializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Members only: leaves invitations out."
    )
    status = serializers.ChoiceField(choices=MEMBER_STATUS_CHOICES, required=False)
    search = StringField(required=False, allow_blank=True, max_length=254, default="")
    ordering = serializers.ChoiceField(
        choices=[f"{sign}{name}" for name in MEMBER_ORDERINGS for sign in ("", "-")],
        required=False,
        default="joined_at",
        help_text="Invitations sort by the time they were made where members sort by joined_at.",
    )


class MemberAddSerializer(serializers.Serializer):
    email = EmailField(max_length=254)
    role = serializers.ChoiceField(choices=ASSIGNABLE_ROLE_CHOICES, default=Role.MEMBER)


class MemberUpdateSerializer(serializers.Serializer):
    """PATCH: every field optional; an empty body changes nothing."""

    role = serializers.ChoiceField(choices=ASSIGNABLE_ROLE_CHOICES, required=False)
    is_active = BooleanField(required=False)


class OwnershipTransferSerializer(serializers.Serializer):
    member = serializers.UUIDField(help_text="Id of the membership that becomes owner.")
