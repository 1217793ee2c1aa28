"""Login, tokens bound to their tenant's host, refresh rotation, logout, switch, register."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Membership, User
from audit.platform.models import PlatformEvent
from config.settings import base
from tenants.models import Tenant
from testing.helpers import PASSWORD, host_of

pytestmark = pytest.mark.django_db


def login(tenant, email, password=PASSWORD):
    return APIClient(HTTP_HOST=host_of(tenant)).post("/api/v1/auth/token/", {"email": email, "password": password})


def bearer(tenant, access):
    client = APIClient(HTTP_HOST=host_of(tenant))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_member_logs_in_on_its_tenant_host(tenant_a):
    response = login(tenant_a, "MANAGER@alpha.test")  # e-mail is case-insensitive
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "manager"
    assert body["tenant"]["slug"] == "alpha" and body["tenant"]["host"] == "alpha.localhost"
    claims = AccessToken(body["access"])
    assert claims["schema"] == "alpha" and claims["tenant"] == "alpha"
    assert bearer(tenant_a, body["access"]).get("/api/v1/me/").json()["role"] == "manager"


@pytest.mark.parametrize(
    "email,password",
    [("owner@beta.test", PASSWORD), ("manager@alpha.test", "wrong-password-1"), ("nobody@x.test", PASSWORD)],
)
def test_login_failures_look_the_same(tenant_a, email, password):
    response = login(tenant_a, email, password)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "No active account found with the given credentials.",
        "code": "invalid_credentials",
    }


def test_login_with_missing_fields_names_them(tenant_a):
    response = APIClient(HTTP_HOST="alpha.localhost").post("/api/v1/auth/token/", {"email": "x"})
    assert response.status_code == 400
    assert "password" in response.json()


def test_public_host_token_carries_no_tenant(public_tenant):
    body = login(public_tenant, "outsider@example.test").json()
    assert AccessToken(body["access"])["tenant"] is None and body["tenant"] is None
    me = bearer(public_tenant, body["access"]).get("/api/v1/me/").json()
    assert me["user"]["email"] == "outsider@example.test" and me["role"] is None


def test_token_of_tenant_a_is_refused_on_tenant_b_and_public(tenant_a, tenant_b, public_tenant, platform):
    # The owner of alpha is also made a member of beta: the token must still not cross.
    owner = platform.user(tenant_a, "owner")
    Membership.objects.create(user=owner, tenant=tenant_b, role="viewer")
    access = login(tenant_a, owner.email).json()["access"]
    for other in (tenant_b, public_tenant):
        response = bearer(other, access).get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["code"] == "token_wrong_tenant"


def test_public_token_is_refused_on_tenant_host(tenant_a, public_tenant, platform):
    access = login(public_tenant, platform.user(tenant_a, "owner").email).json()["access"]
    assert bearer(tenant_a, access).get("/api/v1/me/").status_code == 401


def test_forged_schema_claim_is_rejected(tenant_a, tenant_b, platform):
    token = AccessToken(login(tenant_a, "viewer@alpha.test").json()["access"])
    token["schema"] = "beta"  # re-signing needs the key: an attacker cannot do this,
    raw = str(token)  # but even a correctly signed token for beta needs a beta membership
    response = bearer(tenant_b, raw).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "membership_inactive"


def test_deactivated_membership_stops_existing_token_at_once(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="member")
    assert client.get("/api/v1/me/").status_code == 200  # role now cached
    Membership.objects.filter(tenant=tenant_a, user=client.user).update(is_active=False)  # bypasses signals
    membership = Membership.objects.get(tenant=tenant_a, user=client.user)
    membership.save()  # a normal save, as the admin or a service does: invalidates
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "membership_inactive"


def test_deactivated_user_is_refused(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="member")
    User.objects.filter(pk=client.user.pk).update(is_active=False)
    assert client.get("/api/v1/me/").status_code == 401


def test_refresh_rotates_and_reuse_is_refused(tenant_a):
    first = login(tenant_a, "member@alpha.test").json()
    client = APIClient(HTTP_HOST="alpha.localhost")
    rotated = client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]})
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert AccessToken(rotated.json()["access"])["schema"] == "alpha"
    reuse = client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]})
    assert reuse.status_code == 401
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": rotated.json()["refresh"]}).status_code == 200


def test_refresh_on_other_host_or_after_removal_is_refused(tenant_a, tenant_b):
    pair = login(tenant_a, "member@alpha.test").json()
    assert (
        APIClient(HTTP_HOST="beta.localhost")
        .post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
        .status_code
        == 401
    )
    Membership.objects.get(tenant=tenant_a, user__email="member@alpha.test").delete()
    response = APIClient(HTTP_HOST="alpha.localhost").post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert response.status_code == 401


def test_refresh_answers_tenant_and_role_as_login_does(tenant_a, public_tenant):
    for tenant, email in ((tenant_a, "manager@alpha.test"), (public_tenant, "manager@alpha.test")):
        signed_in = login(tenant, email).json()
        refreshed = APIClient(HTTP_HOST=host_of(tenant)).post(
            "/api/v1/auth/token/refresh/", {"refresh": signed_in["refresh"]}
        )
        assert refreshed.status_code == 200, refreshed.json()
        body = refreshed.json()
        assert set(body) == set(signed_in) == {"access", "refresh", "tenant", "role"}
        assert (body["tenant"], body["role"]) == (signed_in["tenant"], signed_in["role"])
    assert body["tenant"] is None and body["role"] is None  # the public host: no tenant, no role
    signed_in = login(tenant_a, "manager@alpha.test").json()
    assert signed_in["tenant"]["slug"] == "alpha" and signed_in["role"] == "manager"
    # A role changed since sign-in: the refresh answers the current one.
    membership = Membership.objects.get(tenant=tenant_a, user__email="manager@alpha.test")
    membership.role = "member"
    membership.save()
    refreshed = APIClient(HTTP_HOST="alpha.localhost").post(
        "/api/v1/auth/token/refresh/", {"refresh": signed_in["refresh"]}
    )
    assert refreshed.json()["role"] == "member"


def test_refresh_token_on_the_wrong_host_is_token_wrong_tenant_like_an_access_token(tenant_a, tenant_b):
    pair = login(tenant_a, "member@alpha.test").json()
    on_beta = APIClient(HTTP_HOST="beta.localhost").post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    access_on_beta = bearer(tenant_b, pair["access"]).get("/api/v1/me/")
    assert on_beta.status_code == access_on_beta.status_code == 401
    assert on_beta.json()["code"] == access_on_beta.json()["code"] == "token_wrong_tenant"
    # Refused without being used up: it still refreshes on its own host.
    assert (
        APIClient(HTTP_HOST="alpha.localhost")
        .post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
        .status_code
        == 200
    )


def test_refresh_with_garbage_is_401_not_500(tenant_a):
    client = APIClient(HTTP_HOST="alpha.localhost")
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": "not-a-jwt"}).status_code == 401
    assert client.post("/api/v1/auth/token/refresh/", {}).status_code == 400


def test_logout_blacklists_refresh_and_revokes_access(tenant_a):
    pair = login(tenant_a, "viewer@alpha.test").json()
    client = bearer(tenant_a, pair["access"])
    assert client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}).status_code == 204
    assert client.get("/api/v1/me/").json()["code"] == "token_revoked"
    refresh = APIClient(HTTP_HOST="alpha.localhost").post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert refresh.status_code == 401


def test_logout_with_someone_elses_refresh_token_is_refused(tenant_a):
    mine = login(tenant_a, "viewer@alpha.test").json()
    theirs = login(tenant_a, "member@alpha.test").json()
    response = bearer(tenant_a, mine["access"]).post("/api/v1/auth/logout/", {"refresh": theirs["refresh"]})
    assert response.status_code == 401
    ok = APIClient(HTTP_HOST="alpha.localhost").post("/api/v1/auth/token/refresh/", {"refresh": theirs["refresh"]})
    assert ok.status_code == 200


def test_switch_gives_tokens_for_another_tenant_of_the_user(tenant_a, tenant_b, platform):
    user = platform.user(tenant_a, "viewer")
    Membership.objects.create(user=user, tenant=tenant_b, role="manager")
    access = login(tenant_a, user.email).json()["access"]
    response = bearer(tenant_a, access).post("/api/v1/auth/switch/", {"tenant": "beta"})
    assert response.status_code == 200
    body = response.json()
    assert body["tenant"]["host"] == "beta.localhost" and body["role"] == "manager"
    assert bearer(tenant_b, body["access"]).get("/api/v1/me/").json()["role"] == "manager"


def test_switch_to_tenant_without_membership_is_404(api_client_for, tenant_a, tenant_b):
    response = api_client_for(tenant_a, role="owner").post("/api/v1/auth/switch/", {"tenant": "beta"})
    assert response.status_code == 404
    assert (
        api_client_for(tenant_a, role="owner").post("/api/v1/auth/switch/", {"tenant": "no such!"}).status_code == 400
    )


def test_me_tenants_lists_reachable_tenants_with_roles(api_client_for, tenant_a, tenant_b, platform):
    user = platform.user(tenant_a, "admin")
    Membership.objects.create(user=user, tenant=tenant_b, role="viewer", is_active=False)
    rows = api_client_for(tenant_a, user=user).get("/api/v1/me/tenants/").json()
    assert [(row["slug"], row["role"]) for row in rows] == [("alpha", "admin")]


def test_me_patch_updates_profile(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="member")
    response = client.patch("/api/v1/me/", {"full_name": "Ada Lovelace"})
    assert response.status_code == 200 and response.json()["user"]["full_name"] == "Ada Lovelace"
    assert client.patch("/api/v1/me/", {"full_name": "x" * 201}).status_code == 400


def test_password_change_ends_other_sessions(tenant_a):
    old = login(tenant_a, "member@alpha.test").json()
    client = bearer(tenant_a, old["access"])
    wrong = client.post("/api/v1/me/password/", {"current_password": "nope", "new_password": "n3w-long-passphrase"})
    assert wrong.status_code == 400 and "current_password" in wrong.json()
    weak = client.post("/api/v1/me/password/", {"current_password": PASSWORD, "new_password": "12345678901"})
    assert weak.status_code == 400 and "password" in weak.json()

    response = client.post(
        "/api/v1/me/password/", {"current_password": PASSWORD, "new_password": "n3w-long-passphrase"}
    )
    assert response.status_code == 200
    new = response.json()
    refresh_old = APIClient(HTTP_HOST="alpha.localhost").post(
        "/api/v1/auth/token/refresh/", {"refresh": old["refresh"]}
    )
    assert refresh_old.status_code == 401
    assert bearer(tenant_a, new["access"]).get("/api/v1/me/").status_code == 200
    assert login(tenant_a, "member@alpha.test", "n3w-long-passphrase").status_code == 200


def test_production_hasher_is_argon2():
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        assert make_password("whatever-password").startswith("argon2")


def test_email_is_unique_case_insensitively(public_tenant):
    response = APIClient(HTTP_HOST="localhost").post(
        "/api/v1/auth/register/", {"email": "Outsider@Example.TEST", "password": "a-fine-passphrase"}
    )
    assert response.status_code == 409 and response.json()["code"] == "email_taken"


def test_register_user_only(public_tenant):
    response = APIClient(HTTP_HOST="localhost").post(
        "/api/v1/auth/register/", {"email": "New@Person.test", "password": "a-fine-passphrase", "full_name": "New"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "new@person.test" and body["tenant"] is None
    assert bearer(public_tenant, body["access"]).get("/api/v1/me/").status_code == 200


def test_register_with_tenant_provisions_it(public_tenant):
    response = APIClient(HTTP_HOST="localhost").post(
        "/api/v1/auth/register/",
        {"email": "founder@mu.test", "password": "a-fine-passphrase", "tenant_name": "Mu Ltd", "slug": "mu"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tenant"]["host"] == "mu.localhost"
    mu = Tenant.objects.get(slug="mu")
    assert bearer(mu, body["access"]).get("/api/v1/me/").json()["role"] == "owner"
    assert PlatformEvent.objects.filter(action="user.registered", actor_email="founder@mu.test").exists()


@pytest.mark.parametrize(
    "payload,field,status",
    [
        ({"email": "a@b.test", "password": "short"}, "password", 400),
        ({"email": "not-an-email", "password": "a-fine-passphrase"}, "email", 400),
        ({"email": "a@b.test", "password": "a-fine-passphrase", "tenant_name": "X", "slug": "Bad Slug"}, "slug", 400),
        ({"email": "a@b.test", "password": "a-fine-passphrase", "slug": "lonely"}, "tenant_name", 400),
        ({"email": "a@b.test", "password": "a-fine-passphrase", "tenant_name": "X", "slug": "alpha"}, "slug", 409),
    ],
)
def test_register_bad_input_creates_nothing(public_tenant, payload, field, status):
    users, tenants = User.objects.count(), Tenant.objects.count()
    response = APIClient(HTTP_HOST="localhost").post("/api/v1/auth/register/", payload)
    assert response.status_code == status
    body = response.json()
    assert field in body or body.get("code") == "tenant_exists"
    assert (User.objects.count(), Tenant.objects.count()) == (users, tenants)


def test_register_is_public_host_only_and_can_be_disabled(tenant_a, public_tenant):
    payload = {"email": "x@y.test", "password": "a-fine-passphrase"}
    assert APIClient(HTTP_HOST="alpha.localhost").post("/api/v1/auth/register/", payload).status_code == 404
    with override_settings(ENABLE_REGISTRATION=False):
        response = APIClient(HTTP_HOST="localhost").post("/api/v1/auth/register/", payload)
    assert response.status_code == 404 and not User.objects.filter(email="x@y.test").exists()


def test_login_is_throttled(tenant_a, monkeypatch):
    from accounts.throttles import PlatformRateThrottle

    monkeypatch.setattr(PlatformRateThrottle, "THROTTLE_RATES", {"login_ip": "3/min", "login_account": "100/min"})
    codes = [login(tenant_a, "viewer@alpha.test", "wrong-password-1").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_malformed_json_is_400(tenant_a):
    response = APIClient(HTTP_HOST="alpha.localhost").post(
        "/api/v1/auth/token/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
