"""Races that only real concurrent connections can show.

All work runs in threads, each with its own connection in autocommit mode, so it is
committed and visible to the other threads (the test's own transaction on the main
thread holds nothing). transactional_db is avoided: its flush would empty the shared
tenants. The rows added here are ones no other test counts.
"""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import tokens_issue
from testing.helpers import in_threads

pytestmark = pytest.mark.django_db


def test_concurrent_refreshes_of_one_token_yield_one_winner(platform):
    tenant = platform.tenants["alpha"]
    [refresh] = in_threads(1, lambda: tokens_issue(user=platform.user(tenant, "member"), tenant=tenant)["refresh"])

    def attempt():
        client = APIClient(HTTP_HOST="alpha.localhost")
        return client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code

    assert sorted(in_threads(4, attempt)) == [200, 401, 401, 401]
