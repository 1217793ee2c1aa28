"""`GET /api/v1/features/` (tenant hosts): what this tenant's plan gives it, evaluated.
`GET /api/v1/plans/` (public host): the plans a new customer may choose at sign-up."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import errors
from core.permissions import HasRole, IsPublicHost
from core.roles import Role

from ..catalog import QUOTAS
from ..models import Plan
from ..services import entitlements, plans_offered


class FeaturesSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="The plan's slug.")
    modules = serializers.ListField(child=serializers.CharField(), help_text="Modules this tenant has.")
    flags = serializers.DictField(child=serializers.BooleanField(), help_text="Every feature flag, evaluated.")
    quotas = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), help_text="Each quota's limit; null: no limit."
    )


@extend_schema(tags=["tenant"], responses={200: FeaturesSerializer, **errors(401, 403)})
class FeaturesView(APIView):
    """The tenant's plan, modules, quotas and feature flags, as the server applies them."""

    permission_classes = [HasRole(Role.VIEWER)]

    def get(self, request):
        evaluated = entitlements(request.tenant)
        return Response(
            {
                "plan": evaluated.plan,
                "modules": sorted(evaluated.modules),
                "flags": dict(sorted(evaluated.flags.items())),
                "quotas": {name: evaluated.quota(name) for name in QUOTAS},
            }
        )


class PlanSerializer(serializers.ModelSerializer):
    quotas = serializers.SerializerMethodField(help_text="Each quota's limit; null: no limit.")

    class Meta:
        model = Plan
        fields = ["slug", "name", "description", "modules", "quotas"]

    def get_quotas(self, plan) -> dict[str, int | None]:
        return {name: plan.quotas.get(name) for name in QUOTAS}


@extend_schema(tags=["auth"], responses={200: PlanSerializer(many=True), **errors(404)})
class PlansView(APIView):
    """The plans offered at sign-up (`plan` of `POST /api/v1/auth/register/`). Other
    plans exist, given to tenants by operators."""

    permission_classes = [IsPublicHost]
    authentication_classes: list = []

    def get(self, request):
        return Response(PlanSerializer(plans_offered(), many=True).data)
