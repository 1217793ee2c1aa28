"""What a warm request costs in SQL, captured through the real middleware and
authentication: only the statements its data needs. The database backend
(core/postgresql/base.py) sets the search_path only when it changes and skips the
health check on a connection used moments ago; the user, membership, tenant and plan
come from caches that every change invalidates."""

import random

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, tenant_context

from accounts.models import CACHED_PASSWORD, Membership, User
from accounts.selectors import user_for_request
from inventory.tests.factories import ProductFactory
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def _statements(client, path: str) -> list[str]:
    connection.health_check_done = False  # as at the start of every request (close_old_connections)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in queries.captured_queries]


def test_a_warm_authenticated_list_runs_only_count_and_select(tenant_a, api_client_for):
    with tenant_context(tenant_a):
        ProductFactory.create_batch(3)
    client = api_client_for(tenant_a, "viewer")
    cold = _statements(client, "/api/v1/products/")
    assert len(cold) > 2  # routing, user, membership, plan: read once, then cached
    warm = _statements(client, "/api/v1/products/")
    assert len(warm) == 2, warm
    assert warm[0].startswith('SELECT COUNT(*) AS "__count" FROM "inventory_product"')
    assert (
        warm[1].startswith("SELECT ")
        and 'AS "on_hand"' in warm[1]
        and 'FROM "inventory_product"' in warm[1]
        and " LIMIT " in warm[1]
    )


def test_the_path_is_set_once_per_tenant_switch(tenant_a, tenant_b, api_client_for):
    alpha, beta = api_client_for(tenant_a, "viewer"), api_client_for(tenant_b, "viewer")
    for client in (alpha, beta):
        _statements(client, "/api/v1/products/")  # warm both
    sets = lambda statements: [s for s in statements if s.startswith("SET search_path")]  # noqa: E731
    assert sets(_statements(alpha, "/api/v1/products/")) == ['SET search_path = "alpha","public"']
    assert sets(_statements(alpha, "/api/v1/products/")) == []
    assert sets(_statements(beta, "/api/v1/products/")) == ['SET search_path = "beta","public"']
    assert sets(_statements(beta, "/api/v1/products/")) == []


def test_the_health_check_is_skipped_only_on_a_connection_just_used(tenant_a, api_client_for, settings, monkeypatch):
    pings = []
    real = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: pings.append(1) or real())
    client = api_client_for(tenant_a, "viewer")
    _statements(client, "/api/v1/products/")
    _statements(client, "/api/v1/products/")
    assert pings == []
    settings.DB_HEALTH_CHECK_GRACE = 0  # every connection counts as idle: pinged as Django does
    _statements(client, "/api/v1/products/")
    assert pings == [1]


def _on_server() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schemas(false)")
        return ",".join(cursor.fetchone()[0])


def test_no_rollback_or_failure_leaves_a_stale_path(tenant_a, tenant_b):
    """A random walk of tenant switches, savepoints kept or rolled back and failed
    statements: after each step the server's path is the one the connection wants."""
    tenants = {"alpha": tenant_a, "beta": tenant_b, "public": None}
    rng = random.Random(20261203)
    expected = {name: f"{name},public" if name != "public" else "public" for name in tenants}

    def use(name):
        if tenants[name] is None:
            connection.set_schema_to_public()
        else:
            connection.set_tenant(tenants[name])
        assert _on_server() == expected[name]

    def step(depth):
        action = rng.choice(["switch", "switch", "savepoint", "rollback", "fail"] if depth < 3 else ["switch"])
        if action == "switch":
            use(rng.choice(list(tenants)))
        elif action in ("savepoint", "rollback"):
            try:
                with transaction.atomic():
                    for _ in range(rng.randint(1, 3)):
                        step(depth + 1)
                    if action == "rollback":
                        raise RuntimeError("roll back")
            except RuntimeError:
                pass
        else:
            try:
                with transaction.atomic():
                    use(rng.choice(list(tenants)))
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT 1/0")
            except DatabaseError:
                pass
        use(rng.choice(list(tenants)))

    for _ in range(150):
        step(0)
    connection.set_schema_to_public()
    assert connection.schema_name == get_public_schema_name()


def test_any_change_to_a_user_reaches_the_next_request(tenant_a, api_client_for, django_capture_on_commit_callbacks):
    client = api_client_for(tenant_a, "member")
    assert client.get("/api/v1/me/").json()["user"]["full_name"] == "alpha member"  # cached now
    user = User.objects.get(pk=client.user.pk)
    user.full_name = "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    assert client.get("/api/v1/me/").json()["user"]["full_name"] == "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.get(tenant=tenant_a, user=user).delete()
    assert client.get("/api/v1/me/").json()["code"] == "membership_inactive"


def test_the_cache_keeps_no_password_hash_and_passwords_still_change(tenant_a, api_client_for):
    client = api_client_for(tenant_a, "member")
    client.get("/api/v1/me/")
    user = user_for_request(client.user.pk)  # what authentication now reads
    assert user.password == CACHED_PASSWORD and not user.check_password(PASSWORD)
    user.full_name = "Saved from a cached copy"
    user.save()  # never writes the placeholder over the hash
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    response = client.post(
        "/api/v1/me/password/", {"current_password": PASSWORD, "new_password": "a-new-long-passphrase"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert User.objects.get(pk=user.pk).check_password("a-new-long-passphrase")
