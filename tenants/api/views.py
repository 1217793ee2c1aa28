from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError
from core.openapi import errors
from core.permissions import HasRole
from core.roles import Role
from tenants import services
from tenants.models import Tenant

from .serializers import TenantArchiveSerializer, TenantSerializer, TenantUpdateSerializer


def _current(request) -> Tenant:
    # The routed tenant is rebuilt from the cache; read the row for fresh fields.
    return Tenant.objects.get(pk=request.tenant.pk)


@extend_schema(tags=["tenant"])
class TenantView(APIView):
    """The current tenant: name, hosts, status and usage. Admins may rename it."""

    def get_permissions(self):
        return [HasRole(Role.ADMIN)()] if self.request.method == "PATCH" else [HasRole(Role.VIEWER)()]

    @extend_schema(responses={200: TenantSerializer, **errors(401, 403)})
    def get(self, request):
        return Response(TenantSerializer(_current(request), context={"request": request}).data)

    @extend_schema(request=TenantUpdateSerializer, responses={200: TenantSerializer, **errors(400, 401, 403)})
    def patch(self, request):
        data = TenantUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_update(tenant=request.tenant, name=data.validated_data["name"], actor=request.user)
        return Response(TenantSerializer(tenant, context={"request": request}).data)


@extend_schema(tags=["tenant"])
class TenantArchiveView(APIView):
    """Archive this tenant (owner only). Its hosts answer 404 until an operator resumes it."""

    permission_classes = [HasRole(Role.OWNER)]

    @extend_schema(request=TenantArchiveSerializer, responses={200: TenantSerializer, **errors(400, 401, 403, 409)})
    def post(self, request):
        data = TenantArchiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["confirm"] != request.tenant.slug:
            raise ApplicationError("Type the tenant's slug to confirm.", field="confirm")
        tenant = services.tenant_change_status(tenant=request.tenant, change="archive", actor=request.user)
        return Response(TenantSerializer(tenant, context={"request": request}).data)
