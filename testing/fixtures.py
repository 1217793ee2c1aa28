"""The suite's pytest fixtures, loaded for every test by the root conftest
(`pytest_plugins`): two real tenants (cloned once per run) with a member of every role.

`tenant_a` and `tenant_b` are committed once per session, outside test transactions,
so each test's own changes roll back while the tenants stay. Tests that need a tenant
of their own (to suspend or archive it) make one with `tenants.tests.factories`.
Cache entries written by a test are removed after it (a rolled-back change must not
survive in Redis).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connection
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.models import Membership, User
from accounts.services import user_create
from core.localcache import memos_clear
from core.roles import Role
from tenants.models import Tenant
from tenants.services import tenant_provision

from .helpers import PASSWORD, api_client


@dataclass
class Platform:
    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[tuple[str, str], User] = field(default_factory=dict)
    public: Tenant | None = None

    def user(self, tenant: Tenant, role: str) -> User:
        return self.users[(tenant.slug, role)]


@pytest.fixture(scope="session")
def platform(django_db_setup, django_db_blocker) -> Platform:
    made = Platform()
    with django_db_blocker.unblock():
        made.public = Tenant.objects.get(schema_name="public")
        for slug in ("alpha", "beta"):
            result = tenant_provision(
                slug=slug, name=slug.title(), owner_email=f"owner@{slug}.test", owner_password=PASSWORD
            )
            made.tenants[slug] = result.tenant
            made.users[(slug, Role.OWNER)] = result.owner
            for role in (Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.VIEWER):
                user = user_create(email=f"{role}@{slug}.test", password=PASSWORD, full_name=f"{slug} {role}")
                Membership.objects.create(user=user, tenant=result.tenant, role=role)
                made.users[(slug, role)] = user
        made.users[("public", "outsider")] = user_create(email="outsider@example.test", password=PASSWORD)
    return made


@pytest.fixture
def tenant_a(platform, db) -> Tenant:
    return platform.tenants["alpha"]


@pytest.fixture
def tenant_b(platform, db) -> Tenant:
    return platform.tenants["beta"]


@pytest.fixture
def public_tenant(platform, db) -> Tenant:
    return platform.public


@pytest.fixture
def outsider(platform) -> User:
    """A user with no membership anywhere."""
    return platform.users[("public", "outsider")]


@pytest.fixture
def api_client_for(platform) -> Callable[..., APIClient]:
    """`api_client_for(tenant, role=None, user=None)`: a client on that tenant's host,
    authenticated with a real token of the given member (or anonymous)."""

    def make(tenant: Tenant, role: str | None = None, user: User | None = None) -> APIClient:
        if role is not None:
            user = platform.user(tenant, role)
        return api_client(tenant, user)

    return make


@pytest.fixture(autouse=True)
def _forget_test_cache_entries():
    yield
    connection.set_schema_to_public()
    memos_clear()
    redis = get_redis_connection("default")
    keys = list(redis.scan_iter(match=f"*test-{settings.TEST_RUN_ID}:*", count=1000))
    if keys:
        redis.delete(*keys)


@pytest.fixture
def media_root(settings, tmp_path):
    """A storage directory of the test's own, so it can count and damage files freely."""
    location = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "allow_overwrite": True},
        },
    }
    return location
