"""Every endpoint of a module answers 403 module_disabled where the tenant's plan lacks
it, and only there: found by walking the tenant URLconf, so an endpoint added later is
covered without a line here. Tasks of a module do nothing for such a tenant."""

import re
import uuid

import pytest
from django.db import connections
from django.urls import URLPattern, URLResolver, get_resolver

from inventory.tasks import low_stock_alert_send
from plans.catalog import MODULES
from plans.services import entitlements_changed, tenant_plan_change
from reports.tasks import report_email_send
from tenants.services import tenant_delete, tenant_provision
from testing.helpers import api_client

pytestmark = pytest.mark.django_db
# Every id in a path: one that exists nowhere, the same on every run (stable test ids).
ANY_ID = "00000000-0000-4000-8000-000000000000"
_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)|<(?:\w+:)?\w+>")


def _module_endpoints():
    """(path, method, module) of every route whose view belongs to a module."""

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
                module = getattr(view, "module", None)
                if module is None:
                    continue
                actions = getattr(pattern.callback, "actions", None)
                methods = list(actions) if actions else [m for m in view.http_method_names if hasattr(view, m)]
                for method in methods:
                    if method not in ("options", "head"):
                        yield _GROUP.sub(ANY_ID, route).replace("\\.", "."), method, module

    return sorted(set(walk(get_resolver("config.urls_tenant").url_patterns, "/")))


ENDPOINTS = _module_endpoints()


def test_every_module_has_endpoints_found_here():
    assert {module for _, _, module in ENDPOINTS} >= {"inventory", "documents"}
    assert len(ENDPOINTS) > 20


@pytest.fixture(scope="module")
def bare(platform, django_db_blocker):
    """Committed for the module (one pair of schemas for ~60 tests): a tenant with no
    module at all, and one with every module (both by overrides)."""
    with django_db_blocker.unblock():
        pair = []
        for slug, on in (("mod-none", False), ("mod-every", True)):
            tenant = tenant_provision(slug=slug, name=slug, owner_email=f"owner@{slug}.test").tenant
            tenant_plan_change(tenant=tenant, overrides={"modules": dict.fromkeys(MODULES, on)})
            pair.append(tenant)
        entitlements_changed()
        yield pair
        connections.close_all()
        for tenant in pair:
            tenant_delete(tenant=tenant, drop_schema=True)


@pytest.mark.parametrize("path, method, module", ENDPOINTS, ids=[f"{m.upper()} {p}" for p, m, _ in ENDPOINTS])
def test_a_module_endpoint_answers_only_where_the_plan_has_it(bare, path, method, module):
    none, every = bare
    owner = none.memberships.get(role="owner").user
    response = getattr(api_client(none, owner), method)(path, {}, format="json")
    assert response.status_code == 403, (path, method, response.content)
    assert response.json() == {
        "detail": f"The {module} module is not part of this tenant's plan.",
        "code": "module_disabled",
        "module": module,
    }
    owner = every.memberships.get(role="owner").user
    response = getattr(api_client(every, owner), method)(path, {}, format="json")
    assert response.status_code < 500 and (
        response.status_code != 403 or response.json().get("code") != "module_disabled"
    ), (path, method, response.content)


def test_tasks_of_a_module_do_nothing_where_the_plan_lacks_it(bare):
    none, _ = bare
    result = low_stock_alert_send.apply(kwargs={"schema_name": none.schema_name, "alert_id": str(uuid.uuid4())})
    assert result.get() == "skipped: no inventory module in the plan"
    result = report_email_send.apply(kwargs={"schema_name": none.schema_name, "run_id": str(uuid.uuid4())})
    assert result.get() == "skipped: no reports module in the plan"
