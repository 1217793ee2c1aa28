"""The role table as permission classes: one request per role and rule."""

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.permissions import HasRole, RoleByAction
from core.roles import Role

pytestmark = pytest.mark.django_db

ROLES = ["viewer", "member", "manager", "admin", "owner"]


@pytest.mark.parametrize("minimum", ROLES)
@pytest.mark.parametrize("role", ROLES)
def test_has_role_admits_that_role_and_stronger(tenant_a, platform, role, minimum):
    request = APIRequestFactory().get("/")
    request.tenant = tenant_a
    request.user = platform.user(tenant_a, role)
    request.user.tenant_role = role
    allowed = HasRole(minimum)().has_permission(request, APIView())
    assert allowed == (ROLES.index(role) >= ROLES.index(minimum))


def test_has_role_refuses_public_host_and_anonymous(public_tenant, platform, tenant_a):
    request = APIRequestFactory().get("/")
    request.tenant = public_tenant
    request.user = platform.user(tenant_a, "owner")
    request.user.tenant_role = None
    assert not HasRole(Role.VIEWER)().has_permission(request, APIView())


def test_role_by_action_fails_closed_for_unlisted_unsafe_actions(tenant_a, platform):
    view = APIView()
    view.action = "some_new_action"
    request = APIRequestFactory().post("/")
    request.tenant = tenant_a
    request.user = platform.user(tenant_a, "admin")
    request.user.tenant_role = "admin"
    assert not RoleByAction().has_permission(request, view)
    request.user.tenant_role = "owner"
    assert RoleByAction().has_permission(request, view)


# Endpoint, method, body, weakest role allowed.
RULES = [
    ("/api/v1/tenant/", "get", None, "viewer"),
    ("/api/v1/members/", "get", None, "viewer"),
    ("/api/v1/tenant/", "patch", {"name": "Renamed"}, "admin"),
    ("/api/v1/members/", "post", {"email": "perm@x.test", "role": "viewer"}, "admin"),
    ("/api/v1/tenant/archive/", "post", {"confirm": "alpha"}, "owner"),
]


@pytest.mark.parametrize("path,method,body,weakest", RULES)
@pytest.mark.parametrize("role", ROLES)
def test_role_table_on_endpoints(api_client_for, tenant_a, path, method, body, weakest, role):
    response = getattr(api_client_for(tenant_a, role=role), method)(path, body)
    if ROLES.index(role) >= ROLES.index(weakest):
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_anonymous_gets_401_with_challenge(api_client_for, tenant_a):
    response = api_client_for(tenant_a).get("/api/v1/members/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
