"""`GET /api/v1/features/`: what this tenant's plan gives it, evaluated."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import errors
from core.permissions import HasRole
from core.roles import Role

from ..catalog import QUOTAS
from ..services import entitlements


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
