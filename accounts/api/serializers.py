from rest_framework import serializers

from accounts.models import Membership, User
from core.roles import ASSIGNABLE_ROLE_CHOICES, Role
from tenants.selectors import tenant_primary_host


def tenant_url(request, host: str) -> str:
    """The tenant's base URL as this client reaches the platform (scheme and port kept)."""
    port = request.get_port()
    default = "443" if request.is_secure() else "80"
    return f"{request.scheme}://{host}" + ("" if port == default else f":{port}")


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


class TenantRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    host = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_host(self, tenant) -> str:
        return tenant_primary_host(tenant)

    def get_url(self, tenant) -> str:
        return tenant_url(self.context["request"], tenant_primary_host(tenant))


class MyTenantSerializer(TenantRefSerializer):
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)


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


class SwitchSerializer(serializers.Serializer):
    tenant = serializers.SlugField(max_length=63, help_text="Slug of another tenant you belong to.")


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    tenant_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    slug = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if bool(attrs["tenant_name"].strip()) != bool(attrs["slug"]):
            field = "slug" if attrs["tenant_name"].strip() else "tenant_name"
            raise serializers.ValidationError({field: ["Give both tenant_name and slug to create a tenant."]})
        return attrs


class RegisteredSerializer(serializers.Serializer):
    user = UserSerializer(read_only=True)
    tenant = TenantRefSerializer(read_only=True, allow_null=True)
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
