from rest_framework import serializers

from accounts.api.serializers import TenantRefSerializer, UserSerializer
from core.roles import Role
from tenants.models import TenantStatus
from tenants.usage import tenant_usage


class TenantSerializer(TenantRefSerializer):
    """The current tenant, with its status, domains and usage."""

    status = serializers.ChoiceField(choices=TenantStatus.choices, read_only=True)
    domains = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_domains(self, tenant) -> list[str]:
        return list(tenant.domains.order_by("-is_primary", "domain").values_list("domain", flat=True))

    def get_usage(self, tenant) -> dict[str, int]:
        return tenant_usage(tenant)


class MyTenantSerializer(TenantRefSerializer):
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)


class TenantUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class TenantArchiveSerializer(serializers.Serializer):
    confirm = serializers.CharField(max_length=63, help_text="The tenant's slug, to confirm.")

    def validate_confirm(self, value):
        if value != self.context["tenant"].slug:
            raise serializers.ValidationError("Type the tenant's slug to confirm.")
        return value


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
