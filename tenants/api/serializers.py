from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import TenantRefSerializer, UserBriefSerializer, UserSerializer
from core.roles import Role
from core.serializers import EmailField, SlugField, StringField
from plans.catalog import QUOTAS
from plans.services import entitlements
from tenants.models import TenantStatus
from tenants.usage import tenant_usage


class TenantSerializer(TenantRefSerializer):
    """The current tenant, with its status, domains and usage."""

    status = serializers.ChoiceField(choices=TenantStatus.choices, read_only=True)
    domains = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    quotas = serializers.SerializerMethodField(
        help_text="Each quota of the plan: its limit (null: none) and what is used (null: not counted here)."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_domains(self, tenant) -> list[str]:
        return list(tenant.domains.order_by("-is_primary", "domain").values_list("domain", flat=True))

    def get_usage(self, tenant) -> dict[str, int]:
        return tenant_usage(tenant)

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "limit": {"type": "integer", "nullable": True},
                    "used": {"type": "integer", "nullable": True},
                },
            },
        }
    )
    def get_quotas(self, tenant) -> dict:
        usage, evaluated = tenant_usage(tenant), entitlements(tenant)
        return {name: {"limit": evaluated.quota(name), "used": usage.get(name)} for name in QUOTAS}


class MyTenantSerializer(TenantRefSerializer):
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)


class MyInvitationSerializer(serializers.Serializer):
    """An invitation to the signed-in user's address: which tenant, which role, by whom."""

    id = serializers.UUIDField(read_only=True)
    tenant = TenantRefSerializer(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    invited_by = UserBriefSerializer(read_only=True, allow_null=True)
    expires_at = serializers.DateTimeField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class InvitationAcceptedSerializer(serializers.Serializer):
    """The tenant just joined and the role in it; `POST /auth/switch/` gives its tokens."""

    tenant = TenantRefSerializer(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)


class TenantUpdateSerializer(serializers.Serializer):
    """PATCH: every field optional; what is left out stays as it is."""

    name = StringField(max_length=200, required=False)


class TenantArchiveSerializer(serializers.Serializer):
    confirm = StringField(max_length=63, help_text="The tenant's slug, to confirm.")

    def validate_confirm(self, value):
        if value != self.context["tenant"].slug:
            raise serializers.ValidationError("Type the tenant's slug to confirm.")
        return value


class SwitchSerializer(serializers.Serializer):
    tenant = SlugField(max_length=63, help_text="Slug of another tenant you belong to.")


class RegisterSerializer(serializers.Serializer):
    email = EmailField(max_length=254)
    password = StringField(max_length=128, trim_whitespace=False, write_only=True)
    full_name = StringField(max_length=200, required=False, allow_blank=True, default="")
    tenant_name = StringField(max_length=200, required=False, allow_blank=True, default="")
    slug = StringField(max_length=100, required=False, allow_blank=True, default="")
    plan = StringField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="The new tenant's plan, one of GET /api/v1/plans/; the default plan when empty.",
    )

    def validate(self, attrs):
        if bool(attrs["tenant_name"].strip()) != bool(attrs["slug"]):
            field = "slug" if attrs["tenant_name"].strip() else "tenant_name"
            raise serializers.ValidationError({field: ["Give both tenant_name and slug to create a tenant."]})
        if attrs["plan"] and not attrs["slug"]:
            raise serializers.ValidationError(
                {"plan": ["A plan is chosen for a new tenant: give tenant_name and slug."]}
            )
        return attrs


class RegisteredSerializer(serializers.Serializer):
    user = UserSerializer(read_only=True)
    tenant = TenantRefSerializer(read_only=True, allow_null=True)
    access = StringField(read_only=True)
    refresh = StringField(read_only=True)
