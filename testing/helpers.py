"""Plain functions and constants for tests; import them, they are not fixtures."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import tokens_issue
from tenants.models import Tenant

# One password for every test user, long enough for the password validators.
PASSWORD = "correct-horse-battery-42"


def host_of(tenant: Tenant) -> str:
    """The Host header that routes a request to `tenant` (the bare domain for public)."""
    return tenant.primary_host


def api_client(tenant: Tenant, user: User | None = None) -> APIClient:
    """A client on `tenant`'s host, signed in as `user` with a real access token (so
    authentication runs as in production), or anonymous without one. The user is kept
    on `client.user` for assertions."""
    client = APIClient(HTTP_HOST=host_of(tenant))
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=user, tenant=tenant)['access']}")
        client.user = user
    return client


def in_threads(count: int, action: Callable[[], Any]) -> list:
    """Run `action` in `count` threads released together; each has its own database
    connection in autocommit mode. Returns their results (exceptions re-raised).

    For concurrency tests only (`transactional_db`): the threads cannot see rows the
    test's own transaction has not committed.
    """
    results: list = []
    errors: list[Exception] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        except Exception as exc:  # noqa: BLE001 - handed back to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
