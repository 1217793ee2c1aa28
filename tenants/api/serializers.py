from rest_framework import serializers

from accounts.api.serializers import tenant_url
from tenants.models import Tenant
from tenants.selectors import tenant_primary_host
from tenants.usage import tenant_usage


class TenantSerializer(serializers.ModelSerializer):
    host = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    domains = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["id", "slug", "name", "status", "host", "url", "domains", "usage", "created_at", "updated_at"]
        read_only_fields = fields

    def get_host(self, tenant) -> str:
        return tenant_primary_host(tenant)

    def get_url(self, tenant) -> str:
        return tenant_url(self.context["request"], tenant_primary_host(tenant))

    def get_domains(self, tenant) -> list[str]:
        return list(tenant.domains.order_by("-is_primary", "domain").values_list("domain", flat=True))

    def get_usage(self, tenant) -> dict[str, int]:
        return tenant_usage(tenant)


class TenantUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class TenantArchiveSerializer(serializers.Serializer):
    confirm = serializers.CharField(max_length=63, help_text="The tenant's slug, to confirm.")
