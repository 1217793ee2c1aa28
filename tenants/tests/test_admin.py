"""The operators' admin on the public host."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, User
from audit.platform.models import PlatformEvent
from audit.services import audit_record
from tenants.models import Domain, Tenant
from tenants.services import tenant_change_status, tenant_delete
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(platform):
    return User.objects.create_superuser(email="ops@tessera.test", password="ops-password-long")


@pytest.fixture
def admin_client(operator):
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tenants/tenant/?q=alpha",
        "/admin/tenants/tenant/?status__exact=active",
        "/admin/tenants/domain/?q=beta",
        "/admin/accounts/user/?q=owner",
        "/admin/accounts/user/?memberships__role=admin",
        "/admin/accounts/membership/?role__exact=owner",
        "/admin/platform_audit/platformevent/",
        "/admin/tenants/tenant/add/",
    ],
)
def test_admin_pages_render(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_admin_search_finds_tenant(admin_client):
    html = admin_client.get("/admin/tenants/tenant/?q=beta").content.decode()
    assert "beta" in html and "alpha.localhost" not in html


def test_admin_suspend_action(admin_client, tenant_a):
    selected = {"action": "suspend", "_selected_action": [str(tenant_a.pk)]}
    page = admin_client.post("/admin/tenants/tenant/", selected)
    # First a page that asks, naming the tenant and its status; nothing changed yet.
    assert page.status_code == 200 and "Suspend these tenants?" in page.content.decode()
    assert "alpha" in page.content.decode() and "now active" in page.content.decode()
    assert Tenant.objects.get(pk=tenant_a.pk).status == "active"
    response = admin_client.post("/admin/tenants/tenant/", {**selected, "apply": "1"}, follow=True)
    assert response.status_code == 200
    assert Tenant.objects.get(pk=tenant_a.pk).status == "suspended"
    event = PlatformEvent.objects.get(action="tenant.suspended", object_id=str(tenant_a.pk))
    assert event.actor_email == "ops@tessera.test" and event.source == "admin"


def test_admin_add_tenant_provisions_it(admin_client):
    response = admin_client.post(
        "/admin/tenants/tenant/add/", {"slug": "nu", "name": "Nu", "owner_email": "nu@x.test"}, follow=True
    )
    assert response.status_code == 200
    assert "Generated owner password" in response.content.decode()
    tenant = Tenant.objects.get(slug="nu")
    assert Membership.objects.get(tenant=tenant).role == "owner"
    assert tenant.domains.get().domain == "nu.localhost"


def test_admin_add_tenant_rejects_bad_slug(admin_client):
    response = admin_client.post(
        "/admin/tenants/tenant/add/", {"slug": "public", "name": "P", "owner_email": "p@x.test"}
    )
    assert response.status_code == 200 and "reserved" in response.content.decode()
    assert not User.objects.filter(email="p@x.test").exists()


def test_non_staff_cannot_use_admin(platform, tenant_a):
    client = Client(HTTP_HOST="localhost")
    client.force_login(platform.user(tenant_a, "owner"))
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_operator_reads_a_tenants_audit_trail_in_the_admin(admin_client, tenant_a, tenant_b):
    from tenants.services import tenant_change_status

    tenant_change_status(tenant=tenant_a, change="suspend")
    tenant_change_status(tenant=tenant_b, change="archive")
    html = admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/audit/?action=tenant.").content.decode()
    assert "tenant.suspended" in html and "tenant.archived" not in html
    assert (
        f"/admin/tenants/tenant/{tenant_a.pk}/audit/"
        in admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    )


# The Add-tenant form


def _add(admin_client, **fields):
    return admin_client.post("/admin/tenants/tenant/add/", {"slug": "", "name": "N", "owner_email": "", **fields})


def _errors(page) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', page.content.decode())


def test_add_tenant_names_a_slug_a_live_tenant_uses(admin_client, tenant_a):
    page = _add(admin_client, slug="alpha", owner_email="x@x.test")
    assert page.status_code == 200
    assert _errors(page) == ["A tenant with slug &quot;alpha&quot; already exists."]


def test_add_tenant_names_a_leftover_schema_and_the_command(admin_client):
    TenantFactory(slug="gone")
    tenant_delete(tenant=Tenant.objects.get(slug="gone"), drop_schema=False)
    page = _add(admin_client, slug="gone", owner_email="x@x.test")
    (error,) = _errors(page)
    assert "left over from a deleted tenant" in error and "leftover_schemas" in error and "--attach gone" in error


def test_add_tenant_help_text_shows_the_host_pattern(admin_client):
    page = admin_client.get("/admin/tenants/tenant/add/").content.decode()
    assert "Its host: &lt;slug&gt;.localhost" in page
    assert 'name="owner_password"' in page and 'name="extra_domains"' in page


def test_add_tenant_with_owner_password_and_extra_domains(admin_client, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".omega.example.com", "omega.example.com"]
    response = _add(
        admin_client,
        slug="omega",
        name="Omega",
        owner_email="boss@omega.test",
        owner_password="a-chosen-passphrase-9",
        extra_domains="omega.example.com\nwww.omega.example.com, omega.example.com",
    )
    assert response.status_code == 302, _errors(response)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Tenant ready at http://omega.localhost/api/v1/" in page and "Generated owner password" not in page
    tenant = Tenant.objects.get(slug="omega")
    assert sorted(tenant.domains.values_list("domain", "is_primary")) == [
        ("omega.example.com", False),
        ("omega.localhost", True),
        ("www.omega.example.com", False),
    ]
    owner = tenant.memberships.get(role="owner").user
    assert owner.email == "boss@omega.test" and owner.check_password("a-chosen-passphrase-9")


@pytest.mark.parametrize(
    "fields, field_error",
    [
        ({"owner_password": "short"}, "This password is too short"),
        ({"owner_email": "owner@alpha.test", "owner_password": "a-chosen-passphrase-9"}, "keeps its password"),
        ({"extra_domains": "not a host!"}, "is not a valid host name"),
        ({"extra_domains": "shop.localhost"}, "Custom domains cannot be localhost"),
        ({"extra_domains": "elsewhere.example.org"}, "is not in ALLOWED_HOSTS"),
    ],
)
def test_add_tenant_refuses_bad_fields_by_name_and_writes_nothing(admin_client, tenant_a, fields, field_error):
    before = (Tenant.objects.count(), User.objects.count(), PlatformEvent.objects.count())
    page = _add(admin_client, slug="psi", name="Psi", **{"owner_email": "psi@x.test", **fields})
    assert page.status_code == 200 and any(field_error in error for error in _errors(page)), _errors(page)
    assert (Tenant.objects.count(), User.objects.count(), PlatformEvent.objects.count()) == before


def test_add_tenant_refuses_a_domain_in_use(admin_client, tenant_a, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "shop.example.com"]
    Domain.objects.create(domain="shop.example.com", tenant=tenant_a, is_primary=False)
    page = _add(admin_client, slug="psi", name="Psi", owner_email="psi@x.test", extra_domains="shop.example.com")
    assert "Domain already in use: shop.example.com." in _errors(page)
    assert not Tenant.objects.filter(slug="psi").exists()


# The tenant list and page


def test_tenant_list_shows_what_operators_look_for(admin_client, tenant_a):
    page = admin_client.get("/admin/tenants/tenant/?q=alpha").content.decode()
    assert '<a href="http://alpha.localhost/api/v1/"' in page  # the API root, as this client reaches it
    assert "owner@alpha.test" in page and f"?tenant__id__exact={tenant_a.pk}" in page
    assert '<td class="field-members">5</td>' in page  # owner, admin, manager, member, viewer
    assert re.search(r'class="field-plan[^"]*">Team</td>', page)
    assert "products: 0" in page and "storage: 0" in page
    # The port the operator used is kept in the links.
    on_8000 = Client(HTTP_HOST="localhost:8000")
    on_8000.force_login(User.objects.get(email="ops@tessera.test"))
    assert '<a href="http://alpha.localhost:8000/api/v1/"' in on_8000.get("/admin/tenants/tenant/").content.decode()


def test_tenant_list_sorts_and_searches_by_the_new_columns(admin_client, tenant_a, tenant_b):
    page = admin_client.get("/admin/tenants/tenant/?q=owner@beta.test").content.decode()
    assert "owner@beta.test" in page and "owner@alpha.test" not in page
    for column in range(4, 7):  # API root, owner, members
        assert admin_client.get(f"/admin/tenants/tenant/?o={column}").status_code == 200


def test_tenant_page_shows_api_root_owner_and_usage(admin_client, tenant_a):
    page = admin_client.get(f"/admin/tenants/tenant/{tenant_a.pk}/change/").content.decode()
    assert "http://alpha.localhost/api/v1/" in page and "owner@alpha.test" in page and "members: 5" in page
    assert "alpha <small>(host alpha.localhost, schema alpha)</small>" in page and "Subdomain: ." not in page


# Audit views


def test_audit_trail_is_paged_filtered_and_readable(admin_client, tenant_a):
    operator = User.objects.get(email="ops@tessera.test")
    for number in range(60):
        audit_record(
            action="product.updated",
            object_type="product",
            object_id=f"p{number}",
            tenant=tenant_a,
            actor=operator,
            changes={"name": [f"Old {number}", f"New {number}"]},
        )
    audit_record(
        action="membership.changed",
        object_type="membership",
        object_id="m1",
        tenant=tenant_a,
        changes={"role": ["member", "admin"]},
    )
    url = f"/admin/tenants/tenant/{tenant_a.pk}/audit/"
    first = admin_client.get(url).content.decode()
    assert "page 1 of 2" in first and "page=2" in first
    assert "membership.changed" in first and "{'" not in first and "[&#x27;" not in first  # no Python dicts
    assert re.search(
        r"<th>role</th><td class=\"audit-before\">member</td>.*?<td class=\"audit-after\">admin</td>", first
    )
    second = admin_client.get(url + "?page=2").content.decode()
    assert "page 2 of 2" in second and "New 0" in second  # the oldest of them
    by_family = admin_client.get(url + "?family=membership").content.decode()
    assert "membership.changed" in by_family and "product.updated" not in by_family
    by_type = admin_client.get(url + "?object_type=product&page=2").content.decode()
    assert "product.updated" in by_type and "membership.changed" not in by_type
    by_actor = admin_client.get(url + "?actor=ops@").content.decode()
    assert "60 events" in by_actor
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert "No events match these filters" in admin_client.get(url + f"?since={tomorrow}").content.decode()
    # Every family of the vocabulary is offered, not three.
    for family in ("auth", "membership", "tenant", "purchase_request", "webhook_endpoint", "stock"):
        assert f'<option value="{family}">' in first


def test_platform_events_offer_every_filter_and_readable_changes(admin_client, tenant_a):
    tenant_change_status(tenant=tenant_a, change="suspend")
    page = admin_client.get("/admin/platform_audit/platformevent/?family=tenant").content.decode()
    assert "tenant.suspended" in page and "user.created" not in page
    assert '<td class="audit-before">active</td>' in page and '<td class="audit-after">suspended</td>' in page
    for query in ("family=job", "object_type=tenant", "actor=-", "source__exact=command", "at__year=2020"):
        assert admin_client.get(f"/admin/platform_audit/platformevent/?{query}").status_code == 200
    assert 'href="?family=purchase_request"' in page and "object_type=webhook_endpoint" in page
    event = PlatformEvent.objects.filter(action="tenant.suspended").latest("at")
    detail = admin_client.get(f"/admin/platform_audit/platformevent/{event.pk}/change/").content.decode()
    assert '<td class="audit-after">suspended</td>' in detail


def test_platform_events_are_paged(admin_client):
    for number in range(55):
        audit_record(action="plan.updated", object_type="plan", object_id=str(number), platform=True)
    page = admin_client.get("/admin/platform_audit/platformevent/?family=plan").content.decode()
    assert "?family=plan&amp;p=2" in page


# The dashboard


def test_dashboard_shows_status_days_usage_failures_and_leftovers(admin_client, tenant_a, tenant_b):
    tenant_change_status(tenant=tenant_b, change="suspend")
    audit_record(
        action="job.failed",
        platform=True,
        object_type="job",
        object_id="weekly_report",
        changes={"tenant": "alpha", "error": "RuntimeError: disk full"},
    )
    TenantFactory(slug="kept")
    tenant_delete(tenant=Tenant.objects.get(slug="kept"), drop_schema=False)
    index = admin_client.get("/admin/").content.decode()
    assert '<a href="/admin/tenants/tenant/dashboard/">' in index
    response = admin_client.get("/admin/tenants/tenant/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    charts = re.findall(r'<svg [^>]*class="pygal-chart".*?</svg>', page, re.S)
    assert len(charts) == 4 and not any("<script" in chart for chart in charts)  # the CSP allows no inline script
    suspended = Tenant.objects.filter(status="suspended").count()
    assert suspended >= 1 and f"suspended</a></th><td>{suspended}</td>" in page
    assert "Sign-ups and provisioning per day" in page and "tenants provisioned" in page
    assert ">alpha</a></td>" in page and ">beta</a></td>" in page  # top tenants by usage, with their figures
    failures = PlatformEvent.objects.filter(action="job.failed").count()
    assert "weekly_report" in page and "RuntimeError: disk full" in page and f"{failures} in the last 30 days" in page
    assert "<code>kept</code>" in page


def test_dashboard_needs_staff(platform, tenant_a):
    client = Client(HTTP_HOST="localhost")
    client.force_login(platform.user(tenant_a, "owner"))
    assert client.get("/admin/tenants/tenant/dashboard/").status_code == 302
