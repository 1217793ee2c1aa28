"""Redis and the Celery broker taken away from a real server: what its clients see.

A gunicorn worker serves this module's own tenant (`resil`, committed, dropped at the
end) with its cache on database 0 and its broker on database 1 of a redis-server of
the module's own, which the tests stop (saving its data, as a restart with persistence
does) and start again. Never the machine's Redis. PostgreSQL's faults are in
test_database_faults.py.
"""

import json
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connections

from accounts.models import Membership
from accounts.services import membership_create, user_create
from core.outbox.models import PendingTask
from core.roles import Role
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import PASSWORD
from testing.outages import RedisServer, call
from testing.processes import ROOT, child_env, gunicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

HOST = "resil.localhost"
# The sign-in budget per account of this module's server: small, to be reached.
LOGIN_BUDGET = 5


@pytest.fixture(scope="module")
def own_redis():
    server = RedisServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def resil(platform, django_db_blocker):
    with django_db_blocker.unblock():
        result = tenant_provision(slug="resil", name="Resil", owner_email="owner@resil.test", owner_password=PASSWORD)
        for email, role in [
            ("manager@resil.test", Role.MANAGER),
            ("member@resil.test", Role.MEMBER),
            ("leaver@resil.test", Role.MEMBER),
            ("guessed@resil.test", Role.MEMBER),
            ("reset@resil.test", Role.MEMBER),
        ]:
            membership_create(tenant=result.tenant, user=user_create(email=email, password=PASSWORD), role=role)
        yield result.tenant
        connections.close_all()
        tenant_delete(tenant=result.tenant, drop_schema=True)


@pytest.fixture(scope="module")
def server_env(resil, own_redis) -> dict[str, str]:
    return child_env(
        REDIS_URL=own_redis.url(0),
        CELERY_BROKER_URL=own_redis.url(1),
        REDIS_TIMEOUT="0.2",
        TEST_THROTTLE_LOGIN_ACCOUNT=f"{LOGIN_BUDGET}/15m",
        LOG_LEVEL="CRITICAL",  # its stderr is a pipe nobody reads until it fails
    )


@pytest.fixture(scope="module")
def server(server_env):
    with gunicorn(server_env) as base:
        yield base


@pytest.fixture
def redis_down(own_redis):
    """Redis (cache and broker) is stopped for the test's body, and back afterwards."""
    own_redis.stop()
    yield own_redis
    own_redis.start()


def sign_in(server: str, email: str, password: str = PASSWORD) -> tuple[int, dict, dict]:
    return call(server, "POST", "/api/v1/auth/token/", HOST, {"email": email, "password": password})


def access(server: str, email: str) -> str:
    status, body, _ = sign_in(server, email)
    assert status == 200, body
    return body["access"]


def test_reads_writes_and_sign_ins_keep_working_while_redis_is_down(server, own_redis):
    token = access(server, "manager@resil.test")
    assert call(server, "GET", "/api/v1/products/", HOST, token=token)[0] == 200  # caches warm

    own_redis.stop()
    try:
        status, ready, _ = call(server, "GET", "/readyz", "127.0.0.1")
        assert status == 503 and ready["status"] == "unavailable"
        assert ready["checks"]["redis"].startswith("down") and ready["checks"]["broker"].startswith("down")
        assert ready["checks"]["postgres"] == "ok"

        started = time.monotonic()
        status, created, _ = call(server, "POST", "/api/v1/products/", HOST, {"sku": "OUT-1", "name": "Outage"}, token)
        assert status == 201 and created["sku"] == "OUT-1"
        status, listed, _ = call(server, "GET", "/api/v1/products/?sku=OUT-1", HOST, token=token)
        assert status == 200 and [p["id"] for p in listed["results"]] == [created["id"]]
        fresh = access(server, "manager@resil.test")  # signing in needs no Redis either
        assert call(server, "GET", "/api/v1/me/", HOST, token=fresh)[0] == 200
        assert time.monotonic() - started < 5
    finally:
        own_redis.start()

    # Back by itself, without a restart: answers come from PostgreSQL and are cached again.
    own_redis.client().flushall()
    assert call(server, "GET", "/api/v1/products/?sku=OUT-1", HOST, token=token)[1]["count"] == 1
    assert call(server, "GET", "/readyz", "127.0.0.1")[0] == 200
    # (The membership answer is the worker's own copy, under the user's auth_version,
    # which no outage makes stale: core.localcache. It is not asked of Redis again.)
    assert own_redis.client().keys(f"*route:{HOST}") and own_redis.client().keys("*entitlements:*:*")


def test_a_hung_redis_costs_its_timeouts_not_a_hung_worker(server, own_redis):
    token = access(server, "manager@resil.test")
    own_redis.process.send_signal(signal.SIGSTOP)  # connections open, nothing answers
    try:
        started = time.monotonic()
        assert call(server, "GET", "/api/v1/products/", HOST, token=token)[0] == 200
        # A handful of cache calls, each given up after REDIS_TIMEOUT (0.2 s here).
        assert time.monotonic() - started < 3
    finally:
        own_redis.process.send_signal(signal.SIGCONT)


def test_sign_in_throttling_stays_bounded_while_redis_is_down(server, redis_down):
    """No shared counter: each worker counts in its own memory (one worker here), so an
    outage cannot open unlimited password guessing."""
    guesses = [sign_in(server, "guessed@resil.test", f"wrong-guess-{n}")[0] for n in range(LOGIN_BUDGET + 1)]
    assert guesses == [401] * LOGIN_BUDGET + [429]
    status, body, headers = sign_in(server, "guessed@resil.test")  # even the right password
    assert status == 429 and body["code"] == "throttled" and int(headers["Retry-After"]) > 0


def test_sign_out_and_removal_during_an_outage_hold_during_and_after_it(server, own_redis, resil):
    status, pair, _ = sign_in(server, "member@resil.test")
    leaver = access(server, "leaver@resil.test")
    owner = access(server, "owner@resil.test")
    for token in (pair["access"], leaver):
        assert call(server, "GET", "/api/v1/me/", HOST, token=token)[0] == 200  # "still good" is now cached
    leaver_membership = Membership.objects.get(tenant=resil, user__email="leaver@resil.test")

    own_redis.stop()  # saved with those answers: they come back with it
    try:
        status, _, _ = call(server, "POST", "/api/v1/auth/logout/", HOST, {"refresh": pair["refresh"]}, pair["access"])
        assert status == 204
        assert call(server, "DELETE", f"/api/v1/members/{leaver_membership.pk}/", HOST, token=owner)[0] == 204
        assert call(server, "GET", "/api/v1/me/", HOST, token=pair["access"])[1]["code"] == "token_revoked"
        assert call(server, "GET", "/api/v1/me/", HOST, token=leaver)[1]["code"] == "membership_inactive"
    finally:
        own_redis.start()

    # Redis came back holding the answers cached before the changes (their deletion was
    # lost in the outage); they are never read again.
    assert own_redis.client().keys("*session-revoked:*") and own_redis.client().keys("*membership:*")
    status, body, _ = call(server, "GET", "/api/v1/me/", HOST, token=pair["access"])
    assert (status, body["code"]) == (401, "token_revoked")
    status, body, _ = call(server, "GET", "/api/v1/me/", HOST, token=leaver)
    assert (status, body["code"]) == (401, "membership_inactive")


def test_tasks_asked_for_while_the_broker_is_down_are_sent_when_it_returns(server, server_env, own_redis):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    pending = PendingTask.objects.filter(task="accounts.tasks.password_reset_send", kwargs__email="reset@resil.test")

    own_redis.stop()
    try:
        status, _, _ = call(server, "POST", "/api/v1/auth/password/reset/", "localhost", {"email": "reset@resil.test"})
        assert status == 202
        assert pending.count() == 1 and pending.get().attempts == 1  # kept, with the failed send counted
    finally:
        own_redis.start()

    broker = own_redis.client(1)
    assert broker.llen(queue) == 0
    # What beat runs every OUTBOX_DRAIN_SECONDS, with the server's settings.
    drained = subprocess.run(
        [sys.executable, "manage.py", "drain_task_outbox"], cwd=ROOT, env=server_env, capture_output=True, text=True
    )
    assert drained.returncode == 0 and "Sent 1 pending task(s)." in drained.stdout, drained.stderr
    assert not pending.exists()
    sent = [json.loads(message) for message in broker.lrange(queue, 0, -1)]
    assert [message["headers"]["task"] for message in sent] == ["accounts.tasks.password_reset_send"]

    # With the broker up, the task goes at once and leaves nothing behind.
    assert call(server, "POST", "/api/v1/auth/password/reset/", "localhost", {"email": "reset@resil.test"})[0] == 202
    assert broker.llen(queue) == 2 and not pending.exists()
    broker.delete(queue)
