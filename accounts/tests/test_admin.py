"""Users, memberships and sign-ins as operators meet them in the admin."""

import re

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.models import Membership, User
from audit.models import AuditEvent
from audit.platform.models import PlatformEvent
from testing.helpers import PASSWORD, host_of

pytestmark = pytest.mark.django_db
OPERATOR_PASSWORD = "ops-password-long"


@pytest.fixture
def operator(platform):
    return User.objects.create_superuser(email="ops@tessera.test", password=OPERATOR_PASSWORD)


@pytest.fixture
def admin_client(operator):
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    return client


def _errors(page) -> list[str]:
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', page.content.decode())


def _membership_form(membership: Membership, **changes) -> dict:
    form = {
        "user": str(membership.user_id),
        "tenant": str(membership.tenant_id),
        "role": membership.role,
        "is_active": "on" if membership.is_active else "",
    }
    return {**form, **changes}


# Labels and widgets


def test_memberships_are_labelled_with_the_tenant_slug(admin_client, platform, tenant_a):
    membership = Membership.objects.get(tenant=tenant_a, role="admin")
    page = admin_client.get(f"/admin/accounts/membership/{membership.pk}/change/").content.decode()
    assert "admin@alpha.test @ alpha: admin" in page and str(tenant_a.pk) not in page.split("<h2>")[0]
    listing = admin_client.get("/admin/accounts/membership/?q=admin@alpha.test").content.decode()
    assert (
        '<td class="field-tenant_slug">alpha</td>' in listing and '<td class="field-tenant_name">Alpha</td>' in listing
    )
    user_page = admin_client.get(f"/admin/accounts/user/{membership.user_id}/change/").content.decode()
    assert "admin@alpha.test @ alpha: admin" in user_page


def test_user_pages_have_no_groups_or_permissions(admin_client, platform, tenant_a):
    user = platform.user(tenant_a, "member")
    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert 'name="is_staff"' in page and 'name="is_superuser"' in page
    assert 'name="groups"' not in page and 'name="user_permissions"' not in page
    assert admin_client.get("/admin/auth/group/").status_code == 404
    listing = admin_client.get("/admin/accounts/user/?q=member@alpha.test").content.decode()
    assert "alpha (member)" in listing  # the user's tenants and roles, in the list


def test_user_page_saves_without_the_removed_widgets(admin_client, platform, tenant_a):
    user = platform.user(tenant_a, "viewer")
    form = {
        "email": user.email,
        "full_name": "Renamed Viewer",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post(f"/admin/accounts/user/{user.pk}/change/", form)
    assert response.status_code == 302, _errors(response)
    user.refresh_from_db()
    assert user.full_name == "Renamed Viewer"


# One owner per tenant


def test_a_second_owner_is_refused_in_words_not_a_constraint_error(admin_client, platform, tenant_a):
    membership = Membership.objects.get(tenant=tenant_a, role="admin")
    page = admin_client.post(
        f"/admin/accounts/membership/{membership.pk}/change/", _membership_form(membership, role="owner")
    )
    assert page.status_code == 200
    (error,) = _errors(page)
    assert "alpha already has an owner (owner@alpha.test)" in error and "Transfer ownership" in error
    assert Membership.objects.get(pk=membership.pk).role == "admin"
    # The same through the user's page (the memberships inline).
    outsider = platform.users[("public", "outsider")]
    inline = {
        "email": outsider.email,
        "full_name": "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-tenant": str(tenant_a.pk),
        "memberships-0-role": "owner",
        "memberships-0-is_active": "on",
    }
    page = admin_client.post(f"/admin/accounts/user/{outsider.pk}/change/", inline)
    assert page.status_code == 200 and any("already has an owner" in error for error in _errors(page))
    assert not Membership.objects.filter(user=outsider).exists()


def test_the_owner_is_not_demoted_or_deactivated_in_the_form(admin_client, tenant_a):
    owner = Membership.objects.get(tenant=tenant_a, role="owner")
    url = f"/admin/accounts/membership/{owner.pk}/change/"
    demoted = admin_client.post(url, _membership_form(owner, role="admin"))
    assert any("only when ownership moves" in error for error in _errors(demoted))
    deactivated = admin_client.post(url, _membership_form(owner, is_active=""))
    assert any("cannot be deactivated" in error for error in _errors(deactivated))
    assert Membership.objects.get(pk=owner.pk).role == "owner" and Membership.objects.get(pk=owner.pk).is_active


def test_transfer_ownership_asks_then_goes_through_the_service(admin_client, tenant_a):
    target = Membership.objects.get(tenant=tenant_a, role="manager")
    selected = {"action": "transfer_ownership", "_selected_action": [str(target.pk)]}
    page = admin_client.post("/admin/accounts/membership/", selected).content.decode()
    assert "Make manager@alpha.test the owner of alpha?" in page and "owner@alpha.test becomes an admin" in page
    assert Membership.objects.get(pk=target.pk).role == "manager"  # nothing yet
    done = admin_client.post("/admin/accounts/membership/", {**selected, "apply": "1"}, follow=True)
    shown = [str(message) for message in done.context["messages"]]
    assert "manager@alpha.test now owns alpha." in shown, shown
    roles = dict(Membership.objects.filter(tenant=tenant_a).values_list("user__email", "role"))
    assert roles["manager@alpha.test"] == "owner" and roles["owner@alpha.test"] == "admin"
    event = PlatformEvent.objects.get(action="tenant.ownership_transferred", tenant_slug="alpha")
    assert event.changes == {"owner": ["owner@alpha.test", "manager@alpha.test"]}
    assert event.actor_email == "ops@tessera.test" and event.source == "admin"
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="tenant.ownership_transferred", actor_email="ops@tessera.test").exists()


def test_transfer_ownership_needs_exactly_one_member(admin_client, tenant_a):
    two = list(Membership.objects.filter(tenant=tenant_a, role__in=["admin", "manager"]).values_list("pk", flat=True))
    page = admin_client.post(
        "/admin/accounts/membership/",
        {"action": "transfer_ownership", "_selected_action": [str(pk) for pk in two], "apply": "1"},
        follow=True,
    )
    assert "Select exactly one membership" in page.content.decode()
    assert Membership.objects.get(tenant=tenant_a, role="owner").user.email == "owner@alpha.test"


def test_transfer_to_an_inactive_member_is_refused_with_the_reason(admin_client, tenant_a):
    target = Membership.objects.get(tenant=tenant_a, role="viewer")
    Membership.objects.filter(pk=target.pk).update(is_active=False)
    page = admin_client.post(
        "/admin/accounts/membership/",
        {"action": "transfer_ownership", "_selected_action": [str(target.pk)], "apply": "1"},
        follow=True,
    )
    assert "Ownership can only go to an active member." in page.content.decode()
    assert Membership.objects.get(pk=target.pk).role == "viewer"


# Sign-ins


def test_api_sign_in_sets_last_login(platform, tenant_a):
    user = platform.user(tenant_a, "member")
    User.objects.filter(pk=user.pk).update(last_login=None)
    response = APIClient(HTTP_HOST=host_of(tenant_a)).post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).last_login is not None


def test_admin_sign_ins_are_platform_events(operator):
    client = Client(HTTP_HOST="localhost")
    failed = client.post("/admin/login/", {"username": "ops@tessera.test", "password": "wrong-password"})
    assert failed.status_code == 200
    event = PlatformEvent.objects.get(action="security.login_failed", actor_email="ops@tessera.test")
    assert event.changes == {"method": "admin"} and event.source == "admin" and event.object_id == str(operator.pk)
    signed_in = client.post("/admin/login/", {"username": "ops@tessera.test", "password": OPERATOR_PASSWORD})
    assert signed_in.status_code == 302
    login = PlatformEvent.objects.get(action="auth.login", actor_email="ops@tessera.test")
    assert login.changes == {"method": [None, "admin"]} and login.source == "admin"
    operator.refresh_from_db()
    assert operator.last_login is not None
    client.post("/admin/logout/")
    assert PlatformEvent.objects.filter(action="auth.logout", actor_email="ops@tessera.test").exists()


def test_api_failed_sign_in_is_not_taken_for_an_admin_one(platform, tenant_a):
    APIClient(HTTP_HOST=host_of(tenant_a)).post("/api/v1/auth/token/", {"email": "owner@alpha.test", "password": "x"})
    events = PlatformEvent.objects.filter(action="security.login_failed", actor_email="owner@alpha.test")
    assert events.count() == 1 and events.get().changes.get("method") != "admin"
