"""Revocation survives the loss of the cache: the database is its source of truth.

Each test signs out, changes a password or removes a member, then wipes the platform
cache (what a Redis restart or eviction does) and checks the old token stays dead.
"""

import time

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Membership, User
from accounts.selectors import session_revoked_key
from accounts.services import member_remove, membership_create, user_create, user_password_change
from accounts.tokens import auth_state_changed, tokens_issue
from core.roles import Role

pytestmark = pytest.mark.django_db

SECRET = "another-long-pass-91"


def _client(tenant, access=None):
    client = APIClient(HTTP_HOST=tenant.primary_host)
    if access:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _member(tenant, email="revoke.me@alpha.test", role=Role.MEMBER):
    user = user_create(email=email, password=SECRET)
    membership_create(tenant=tenant, user=user, role=role)
    return user


def _lose_the_cache():
    # Only this run's platform keys: a shared Redis is never flushed by the suite.
    caches["platform"].delete_pattern("*")


def test_signed_out_token_stays_refused_after_cache_loss(tenant_a):
    _member(tenant_a)
    pair = _client(tenant_a).post("/api/v1/auth/token/", {"email": "revoke.me@alpha.test", "password": SECRET}).json()
    client = _client(tenant_a, pair["access"])
    assert client.get("/api/v1/me/").status_code == 200
    assert client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}).status_code == 204
    _lose_the_cache()
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"


def test_other_tokens_of_a_signed_out_session_are_refused_too(tenant_a):
    """Refreshing keeps the session; signing out ends every token minted in it."""
    _member(tenant_a)
    first = _client(tenant_a).post("/api/v1/auth/token/", {"email": "revoke.me@alpha.test", "password": SECRET}).json()
    second = _client(tenant_a).post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}).json()
    assert _client(tenant_a, first["access"]).get("/api/v1/me/").status_code == 200
    assert _client(tenant_a).post("/api/v1/auth/logout/", {"refresh": second["refresh"]}).status_code == 204
    _lose_the_cache()
    assert _client(tenant_a, first["access"]).get("/api/v1/me/").status_code == 401
    assert _client(tenant_a, second["access"]).get("/api/v1/me/").status_code == 401


def test_token_minted_in_the_same_second_as_a_password_change_dies_with_it(tenant_a):
    user = _member(tenant_a)
    for _ in range(20):  # retry until both happen inside one wall-clock second
        second = int(time.time())
        old = tokens_issue(user=user, tenant=tenant_a)["access"]
        user_password_change(user=user, current_password=SECRET, new_password=SECRET + "x")
        if int(time.time()) == second:
            break
        user.refresh_from_db()
        user_password_change(user=user, current_password=SECRET + "x", new_password=SECRET)
    else:
        pytest.fail("could not issue and change within one second")
    _lose_the_cache()
    response = _client(tenant_a, old).get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    fresh = tokens_issue(user=user, tenant=tenant_a)["access"]
    assert _client(tenant_a, fresh).get("/api/v1/me/").status_code == 200


def test_removed_and_re_added_member_does_not_revive_old_tokens(tenant_a, platform):
    user = _member(tenant_a)
    old = tokens_issue(user=user, tenant=tenant_a)
    admin = platform.user(tenant_a, Role.ADMIN)
    member_remove(membership=Membership.objects.get(user=user, tenant=tenant_a), actor=admin, actor_role=Role.ADMIN)
    membership_create(tenant=tenant_a, user=user, role=Role.MEMBER, actor=admin)
    _lose_the_cache()
    response = _client(tenant_a, old["access"]).get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "membership_inactive"
    refreshed = _client(tenant_a).post("/api/v1/auth/token/refresh/", {"refresh": old["refresh"]})
    assert refreshed.status_code == 401
    new = tokens_issue(user=user, tenant=tenant_a)["access"]
    assert _client(tenant_a, new).get("/api/v1/me/").status_code == 200


def test_answers_cached_before_a_sign_out_are_never_read_after_it(tenant_a):
    """What a Redis outage leaves behind: the sign-out's invalidation lost, the old
    "not signed out" answer still cached. It is under the previous `auth_version`."""
    user = _member(tenant_a)
    pair = _client(tenant_a).post("/api/v1/auth/token/", {"email": "revoke.me@alpha.test", "password": SECRET}).json()
    client = _client(tenant_a, pair["access"])
    assert client.get("/api/v1/me/").status_code == 200
    user.refresh_from_db()
    stale_key = session_revoked_key(AccessToken(pair["access"])["sid"], user.auth_version)
    assert caches["platform"].get(stale_key) is False
    assert client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}).status_code == 204
    caches["platform"].set(stale_key, False)  # as if the sign-out had never reached Redis
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"


def test_a_full_save_of_an_older_copy_never_winds_auth_version_back(tenant_a):
    user = _member(tenant_a)
    older = User.objects.get(pk=user.pk)
    auth_state_changed(user_id=user.pk)
    older.full_name = "Renamed"
    older.save()  # as the admin's form does, with the version it loaded
    saved = User.objects.get(pk=user.pk)
    assert (saved.full_name, saved.auth_version) == ("Renamed", older.auth_version + 1)
