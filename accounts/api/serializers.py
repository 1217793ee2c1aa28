from rest_framework import serializers

from accounts.models import Membership, User
from core.http import base_url
from core.roles import ASSIGNABLE_ROLE_CHOICES, Role


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "date_joined"]
        read_only_fields = fields


class UserBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


# The one tenant serializer: tenants.api.serializers extends it, so id, slug, name, host
# and url read the same in tokens, profiles and the tenant's own endpoint.
class TenantRefSerializer(serializers.Serializer):
    """A tenant: its id, slug, name, host and base URL."""

    id = serializers.UUIDField(read_only=True)
    slug = serializers.SlugField(read_only=True, help_text="Subdomain: <slug>.<PUBLIC_DOMAIN>")
    name = serializers.CharField(read_only=True)
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
    full_name = serializers.CharField(max_length=200, allow_blank=True)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)
    tenant = TenantRefSerializer(read_only=True, allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)


class TokenRefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class TokenRefreshOutputSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class InvitationAcceptSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class MemberSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "is_active", "joined_at", "updated_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=ASSIGNABLE_ROLE_CHOICES, default=Role.MEMBER)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ASSIGNABLE_ROLE_CHOICES, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"role": ["Give role and/or is_active."]})
        return attrs


class OwnershipTransferSerializer(serializers.Serializer):
    member = serializers.UUIDField(help_text="Id of the membership that becomes owner.")
