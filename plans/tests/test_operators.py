"""Plans as operators and new customers meet them: sign-up with a plan, the admin
(per-module, per-quota and per-flag fields, the change-plan action, flags), the command."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from audit.platform.models import PlatformEvent
from plans.catalog import MODULES, QUOTAS
from plans.models import Flag, Plan
from plans.services import entitlements, flag_enabled
from tenants.models import Tenant
from tenants.tests.factories import TenantFactory
from testing.helpers import api_client

pytestmark = pytest.mark.django_db
SIGNUP = {"email": "founder@newco.test", "password": "a-fine-passphrase", "tenant_name": "NewCo", "slug": "newco"}


@pytest.fixture
def free():
    tenant = TenantFactory(plan="free")
    return tenant, api_client(tenant, tenant.memberships.get(role="owner").user)


@pytest.fixture
def operator_client():
    operator = User.objects.create_superuser(email="ops@tessera.test", password="ops-password-long")
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    return client


# Sign-up


def test_sign_up_lists_and_takes_the_offered_plans(public_tenant):
    public = APIClient(HTTP_HOST="localhost")
    offered = public.get("/api/v1/plans/").json()
    assert [plan["slug"] for plan in offered] == ["free", "team"]  # business is sold by operators
    assert offered[0]["quotas"]["products"] == 100 and offered[0]["modules"] == ["inventory"]
    response = public.post("/api/v1/auth/register/", {**SIGNUP, "plan": "free"})
    assert response.status_code == 201, response.content
    tenant = Tenant.objects.get(slug="newco")
    assert tenant.plan.slug == "free" and entitlements(tenant).modules == {"inventory"}
    # Without a plan: the default one.
    public.post("/api/v1/auth/register/", {**SIGNUP, "email": "b@newco.test", "slug": "newco-two"})
    assert Tenant.objects.get(slug="newco-two").plan.slug == "team"


def test_the_plans_list_is_on_the_public_host_only(tenant_a):
    assert api_client(tenant_a).get("/api/v1/plans/").status_code == 404


@pytest.mark.parametrize(
    "plan, message",
    [
        ("business", 'No plan "business" is offered at sign-up. Offered: free, team.'),
        ("gold", 'No plan "gold" is offered at sign-up. Offered: free, team.'),
    ],
)
def test_sign_up_refuses_plans_not_offered_and_creates_nothing(public_tenant, plan, message):
    users, tenants = User.objects.count(), Tenant.objects.count()
    response = APIClient(HTTP_HOST="localhost").post("/api/v1/auth/register/", {**SIGNUP, "plan": plan})
    assert response.status_code == 400 and response.json() == {"plan": [message]}
    assert (User.objects.count(), Tenant.objects.count()) == (users, tenants)


def test_a_plan_without_a_tenant_is_refused(public_tenant):
    payload = {"email": "solo@newco.test", "password": "a-fine-passphrase", "plan": "free"}
    response = APIClient(HTTP_HOST="localhost").post("/api/v1/auth/register/", payload)
    assert response.status_code == 400 and "plan" in response.json()
    assert not User.objects.filter(email="solo@newco.test").exists()


# The tenant's page in the admin


def _tenant_form(tenant: Tenant, **changes) -> dict:
    form = {"name": tenant.name, "plan": str(tenant.plan_id)}
    form.update({f"module_{module}": "" for module in MODULES})
    form.update({f"quota_{quota}": "" for quota in QUOTAS})
    form.update({f"flag_{name}": "rules" for name in Flag.objects.values_list("name", flat=True)})
    form.update({"domains-TOTAL_FORMS": "0", "domains-INITIAL_FORMS": "0"})
    form.update(changes)
    return form


def _errors(page) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', page.content.decode())


def test_the_tenant_page_edits_modules_quotas_and_flags_field_by_field(
    free, operator_client, django_capture_on_commit_callbacks
):
    tenant, client = free
    Flag.objects.create(name="beta-search")
    page = operator_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    assert "Plan free: off." in page and "Plan free: 100." in page and "Now off for this tenant." in page
    assert 'name="overrides"' not in page  # no raw JSON to get wrong
    url = f"/admin/tenants/tenant/{tenant.pk}/change/"
    form = _tenant_form(
        tenant, module_documents="on", quota_products="7", quota_warehouses="unlimited", **{"flag_beta-search": "on"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url, form)
    assert response.status_code == 302, _errors(response)
    tenant.refresh_from_db()
    assert tenant.overrides == {"modules": {"documents": True}, "quotas": {"products": 7, "warehouses": None}}
    # Effective at the tenant's next request.
    features = client.get("/api/v1/features/").json()
    assert "documents" in features["modules"] and features["flags"]["beta-search"] is True
    assert features["quotas"]["products"] == 7 and features["quotas"]["warehouses"] is None
    # Each change is a platform event, with before and after.
    event = PlatformEvent.objects.get(action="tenant.plan_changed", tenant_slug=tenant.slug)
    assert event.changes["overrides"][0] == {} and event.actor_email == "ops@tessera.test"
    flag_event = PlatformEvent.objects.get(action="flag.tenant_set", tenant_slug=tenant.slug)
    assert flag_event.changes == {"flag": "beta-search", "state": ["rules", "on"]}
    # The page shows what is stored; saving it unchanged records nothing more.
    page = operator_client.get(url).content.decode()
    assert 'name="quota_products" value="7"' in page and 'name="quota_warehouses" value="unlimited"' in page
    operator_client.post(url, {**form, "quota_warehouses": "unlimited"})
    assert PlatformEvent.objects.filter(action="tenant.plan_changed", tenant_slug=tenant.slug).count() == 1


def test_a_plan_change_in_the_admin_records_both_plans(free, operator_client, django_capture_on_commit_callbacks):
    tenant, client = free
    business = Plan.objects.get(slug="business")
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            f"/admin/tenants/tenant/{tenant.pk}/change/", _tenant_form(tenant, plan=str(business.pk))
        )
    assert response.status_code == 302, _errors(response)
    event = PlatformEvent.objects.get(action="tenant.plan_changed", tenant_slug=tenant.slug)
    assert event.changes == {"plan": ["free", "business"]}
    assert client.get("/api/v1/features/").json()["plan"] == "business"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("quota_products", "-3", "A whole number of at least 0"),
        ("quota_products", "2.5", "A whole number of at least 0"),
        ("quota_members", "lots", "A whole number of at least 0"),
        ("module_documents", "maybe", "Select a valid choice"),
        ("plan", "00000000-0000-4000-8000-000000000000", "Select a valid choice"),
    ],
)
def test_bad_values_in_the_admin_are_named_and_change_nothing(free, operator_client, field, value, message):
    tenant, _ = free
    response = operator_client.post(
        f"/admin/tenants/tenant/{tenant.pk}/change/", _tenant_form(tenant, **{field: value})
    )
    assert response.status_code == 200 and any(message in error for error in _errors(response)), _errors(response)
    tenant.refresh_from_db()
    assert tenant.overrides == {} and tenant.plan.slug == "free"
    assert not PlatformEvent.objects.filter(action="tenant.plan_changed", tenant_slug=tenant.slug).exists()


def test_the_change_plan_action_asks_then_moves_every_selected_tenant(
    free, tenant_a, operator_client, django_capture_on_commit_callbacks
):
    tenant, client = free
    selected = {"action": "change_plan", "_selected_action": [str(tenant.pk), str(tenant_a.pk)]}
    page = operator_client.post("/admin/tenants/tenant/", selected)
    assert page.status_code == 200 and b"Move these 2 tenant(s) to another plan" in page.content
    assert Tenant.objects.get(pk=tenant.pk).plan.slug == "free"  # nothing yet
    business = Plan.objects.get(slug="business")
    with django_capture_on_commit_callbacks(execute=True):
        done = operator_client.post("/admin/tenants/tenant/", {**selected, "apply": "1", "plan": str(business.pk)})
    assert done.status_code == 302
    assert {t.plan.slug for t in Tenant.objects.filter(pk__in=[tenant.pk, tenant_a.pk])} == {"business"}
    assert client.get("/api/v1/features/").json()["plan"] == "business"
    moved = PlatformEvent.objects.filter(action="tenant.plan_changed", tenant_slug__in=[tenant.slug, tenant_a.slug])
    assert moved.count() == 2


# Flags in the admin


def test_flags_name_existing_tenants_only(free, operator_client):
    tenant, _ = free
    form = {"name": "beta-search", "description": "", "percent": "0", "tenants_on": f"{tenant.slug},nosuch"}
    page = operator_client.post("/admin/plans/flag/add/", {**form, "tenants_off": ""})
    assert "No tenant with slug: nosuch." in _errors(page)
    page = operator_client.post(
        "/admin/plans/flag/add/", {**form, "tenants_on": tenant.slug, "tenants_off": tenant.slug}
    )
    assert f"Forced both on and off: {tenant.slug}." in _errors(page)
    page = operator_client.post("/admin/plans/flag/add/", {**form, "tenants_on": tenant.slug, "percent": "101"})
    assert any("100" in error for error in _errors(page))
    assert not Flag.objects.exists()


def test_flag_actions_turn_a_flag_on_and_off_for_everyone(
    tenant_a, operator_client, django_capture_on_commit_callbacks
):
    flag = Flag.objects.create(name="new-ui")
    for action, expected in (("on_for_everyone", True), ("off_for_everyone", False), ("by_rules", False)):
        selected = {"action": action, "_selected_action": [str(flag.pk)]}
        before = Flag.objects.get(pk=flag.pk).everyone
        page = operator_client.post("/admin/plans/flag/", selected)  # asks first, changes nothing
        assert page.status_code == 200 and b'name="apply"' in page.content and b"new-ui" in page.content
        assert Flag.objects.get(pk=flag.pk).everyone is before
        with django_capture_on_commit_callbacks(execute=True):
            operator_client.post("/admin/plans/flag/", {**selected, "apply": "1"})
        flag.refresh_from_db()
        assert flag.everyone is {"on_for_everyone": True, "off_for_everyone": False, "by_rules": None}[action]
        assert flag_enabled(tenant_a, "new-ui") is expected
    assert PlatformEvent.objects.filter(action="flag.updated", object_id=str(flag.pk)).count() == 3


def test_plans_are_validated_in_the_admin(operator_client):
    form = {"slug": "gold", "name": "Gold", "description": "", "modules": ["inventory"], "quotas": '{"products": -1}'}
    page = operator_client.post("/admin/plans/plan/add/", form)
    assert any("products quota must be a whole number" in error for error in _errors(page))
    page = operator_client.post("/admin/plans/plan/add/", {**form, "quotas": '{"seats": 3}'})
    assert any("Unknown quota(s): seats" in error for error in _errors(page))
    page = operator_client.post("/admin/plans/plan/add/", {**form, "modules": ["payroll"], "quotas": "{}"})
    assert any("payroll is not one of the available choices" in error for error in _errors(page))
    assert not Plan.objects.filter(slug="gold").exists()


# The command


def test_the_command_forces_flags_per_tenant(free, django_capture_on_commit_callbacks):
    tenant, _ = free
    Flag.objects.create(name="beta-search")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tenant_plan", tenant.slug, "--flag", "beta-search=on", stdout=out)
    assert "flags on: beta-search" in out.getvalue() and flag_enabled(tenant, "beta-search")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("tenant_plan", tenant.slug, "--flag", "beta-search=rules", stdout=StringIO())
    assert not flag_enabled(tenant, "beta-search")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--flag", "no-such=on"], 'No flag "no-such"'),
        (["--flag", "beta-search=maybe"], "NAME=on, NAME=off or NAME=rules"),
        (["business", "--flag", "no-such=on"], 'No flag "no-such"'),
    ],
)
def test_the_command_refuses_bad_flags_and_changes_nothing(free, args, message):
    tenant, _ = free
    Flag.objects.create(name="beta-search")
    with pytest.raises(CommandError, match=message):
        call_command("tenant_plan", tenant.slug, *args)
    tenant.refresh_from_db()
    assert tenant.plan.slug == "free" and not flag_enabled(tenant, "beta-search")
