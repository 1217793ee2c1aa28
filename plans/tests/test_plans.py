"""Plans, overrides, modules and flags, as operators set them and tenants meet them."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from audit.platform.models import PlatformEvent
from plans.exceptions import InvalidPlan
from plans.models import Flag, Plan
from plans.services import bucket, entitlements, flag_enabled, tenant_plan_change
from reports.models import ReportRun
from tenants.tasks import tenant_job_run
from tenants.tests.factories import TenantFactory
from testing.helpers import api_client

pytestmark = pytest.mark.django_db
PERIOD = {"period_start": "2026-11-22T00:00:00+00:00", "period_end": "2026-11-29T00:00:00+00:00"}


@pytest.fixture
def free():
    """A tenant on the free plan (inventory only), with its owner's client."""
    tenant = TenantFactory(plan="free")
    owner = tenant.memberships.get(role="owner").user
    return tenant, api_client(tenant, owner)


def test_seeded_plans_and_the_default(tenant_a, settings):
    assert set(Plan.objects.values_list("slug", flat=True)) >= {"free", "team", "business"}
    assert entitlements(tenant_a).plan == settings.DEFAULT_PLAN == "team"
    with pytest.raises(InvalidPlan, match='No plan "gold"'):
        TenantFactory(plan="gold")


def test_a_module_outside_the_plan_answers_403_naming_it(free, media_root, django_capture_on_commit_callbacks):
    tenant, client = free
    assert client.get("/api/v1/products/").status_code == 200
    response = client.get("/api/v1/documents/")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "The documents module is not part of this tenant's plan.",
        "code": "module_disabled",
        "module": "documents",
    }
    # An override turns it on, effective at the very next request after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_change(tenant=tenant, overrides={"modules": {"documents": True}})
    assert client.get("/api/v1/documents/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_change(tenant=tenant, overrides={"modules": {"inventory": False, "documents": True}})
    assert client.get("/api/v1/products/").json()["code"] == "module_disabled"


def test_anonymous_callers_get_401_before_any_module_answer(free):
    tenant, _ = free
    assert api_client(tenant).get("/api/v1/documents/").status_code == 401


def test_features_endpoint_shows_the_evaluated_plan(free, django_capture_on_commit_callbacks):
    tenant, client = free
    with django_capture_on_commit_callbacks(execute=True):
        tenant_plan_change(tenant=tenant, overrides={"quotas": {"products": 5, "warehouses": None}})
    body = client.get("/api/v1/features/").json()
    assert body["plan"] == "free" and body["modules"] == ["inventory"]
    assert body["quotas"]["products"] == 5 and body["quotas"]["warehouses"] is None
    assert body["quotas"]["members"] == 3


def test_warm_evaluation_runs_no_sql(tenant_a):
    entitlements(tenant_a)
    with CaptureQueriesContext(connection) as queries:
        entitlements(tenant_a)
        flag_enabled(tenant_a, "anything")
    assert len(queries) == 0


def test_flags_global_per_plan_per_tenant_and_percent(tenant_a, tenant_b, free, django_capture_on_commit_callbacks):
    """Each change is seen at once (the cached evaluations are dropped on commit)."""
    tenant, _ = free
    commit = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731
    with commit():
        flag = Flag.objects.create(name="new-ui")
    assert not flag_enabled(tenant_a, "new-ui") and not flag_enabled(tenant_a, "no-such-flag")
    with commit():
        flag.plans.add(Plan.objects.get(slug="free"))
    assert flag_enabled(tenant, "new-ui") and not flag_enabled(tenant_a, "new-ui")
    flag.tenants_on, flag.tenants_off = [tenant_a.slug], [tenant.slug]
    with commit():
        flag.save()
    assert flag_enabled(tenant_a, "new-ui") and not flag_enabled(tenant, "new-ui")
    flag.everyone = True
    with commit():
        flag.save()
    assert flag_enabled(tenant_b, "new-ui") and not flag_enabled(tenant, "new-ui")  # off beats everyone


def test_percentage_rollout_is_stable_and_only_grows():
    tenants = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1000)]
    inside = {p: {t for t in tenants if bucket("beta-search", t) < p} for p in (0, 10, 20, 50, 100)}
    assert inside[0] == set() and inside[100] == set(tenants)
    assert inside[10] <= inside[20] <= inside[50]
    assert 60 < len(inside[10]) < 140 and 400 < len(inside[50]) < 600
    # Another flag draws its own order: not the same tenants first.
    assert {t for t in tenants if bucket("other-flag", t) < 10} != inside[10]


def test_jobs_skip_steps_of_modules_outside_the_plan(free):
    tenant, _ = free
    done = tenant_job_run.apply(kwargs={"job": "weekly_report", "schema_name": tenant.schema_name, **PERIOD}).get()
    assert done == ["inventory_report: skipped (no reports module in the plan)"]
    with tenant_context(tenant):
        assert not ReportRun.objects.exists()


def test_plan_changes_are_platform_events(free):
    tenant, _ = free
    tenant_plan_change(tenant=tenant, plan=Plan.objects.get(slug="business"))
    event = PlatformEvent.objects.get(action="tenant.plan_changed", object_id=str(tenant.pk))
    assert event.changes == {"plan": ["free", "business"]}


@pytest.mark.parametrize(
    "overrides",
    [
        {"modules": {"payroll": True}},
        {"modules": {"documents": "yes"}},
        {"quotas": {"products": -1}},
        {"quotas": {"products": 2.5}},
        {"quotas": {"seats": 3}},
        {"limits": {}},
    ],
)
def test_bad_overrides_are_refused_and_change_nothing(free, overrides):
    tenant, _ = free
    with pytest.raises(InvalidPlan):
        tenant_plan_change(tenant=tenant, overrides=overrides)
    tenant.refresh_from_db()
    assert tenant.overrides == {}


def test_tenant_plan_command(free):
    tenant, _ = free
    out = StringIO()
    call_command("tenant_plan", tenant.slug, "team", "--module", "webhooks=on", "--quota", "products=7", stdout=out)
    text = out.getvalue()
    assert f"{tenant.slug}: plan team" in text and "webhooks" in text and "products 7" in text
    for args, message in [
        (["nope"], 'No plan "nope"'),
        (["--module", "payroll=on"], "Unknown module"),
        (["--module", "documents=maybe"], "NAME=on"),
        (["--quota", "products=-3"], "NAME=N"),
        (["--quota", "products=2.5"], "NAME=N"),
        (["--quota", "seats=3"], r"Unknown quota\(s\): seats"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("tenant_plan", tenant.slug, *args)
