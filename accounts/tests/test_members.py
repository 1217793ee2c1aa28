"""Members API: the role rules a user would expect, and isolation between tenants."""

import re

import pytest
from django.core import mail
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership, User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def membership(tenant, role):
    return (
        Membership.objects.get(tenant=tenant, role=role)
        if role == "owner"
        else Membership.objects.get(tenant=tenant, user__email=f"{role}@{tenant.slug}.test")
    )


def test_any_member_lists_members_with_search_and_filter(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="viewer")
    body = client.get("/api/v1/members/").json()
    assert body["count"] == 5
    assert {row["role"] for row in body["results"]} == {"owner", "admin", "manager", "member", "viewer"}
    assert all(row["user"]["email"].endswith("@alpha.test") for row in body["results"])
    assert [r["role"] for r in client.get("/api/v1/members/?role=manager").json()["results"]] == ["manager"]
    assert client.get("/api/v1/members/?search=viewer@").json()["count"] == 1
    assert client.get("/api/v1/members/?page_size=2").json()["next"] is not None


def test_adding_an_existing_users_email_invites_them_without_enrolling_or_naming_them(
    api_client_for, tenant_a, platform
):
    newcomer = platform.user(platform.tenants["beta"], "member")
    response = api_client_for(tenant_a, role="admin").post(
        "/api/v1/members/", {"email": newcomer.email.upper(), "role": "manager"}
    )
    assert response.status_code == 201
    body = response.json()
    # An invitation, not a membership: nothing says the address has an account (no name).
    assert body["status"] == "invited" and body["email"] == newcomer.email and body["role"] == "manager"
    assert "user" not in body and newcomer.full_name not in response.content.decode()
    assert not Membership.objects.filter(tenant=tenant_a, user=newcomer).exists()
    again = api_client_for(tenant_a, role="admin").post("/api/v1/members/", {"email": newcomer.email, "role": "viewer"})
    assert again.status_code == 409 and again.json()["code"] == "already_invited"
    with tenant_context(tenant_a):
        event = AuditEvent.objects.get(action="invitation.created", object_id=body["id"])
    assert event.actor_email == "admin@alpha.test" and event.changes["role"] == [None, "manager"]


def test_adding_a_new_email_sends_an_invitation_that_can_be_accepted(
    api_client_for, tenant_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(tenant_a, role="admin").post(
            "/api/v1/members/", {"email": "fresh@new.test", "role": "member"}
        )
    assert response.status_code == 201
    assert not User.objects.filter(email="fresh@new.test").exists()  # no account before acceptance
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["fresh@new.test"]
    token = re.search(r'"token": "([^"]+)"', mail.outbox[0].body).group(1)

    client = APIClient(HTTP_HOST="alpha.localhost")
    assert (
        client.post("/api/v1/auth/token/", {"email": "fresh@new.test", "password": "anything-at-all"}).status_code
        == 401
    )
    bad = client.post("/api/v1/auth/invitation/accept/", {"token": "wrong", "password": "a-fine-passphrase"})
    assert bad.status_code == 400 and "token" in bad.json()
    # The invitation is for alpha: it cannot be redeemed on beta.
    on_b = APIClient(HTTP_HOST="beta.localhost").post(
        "/api/v1/auth/invitation/accept/", {"token": token, "password": "a-fine-passphrase"}
    )
    assert on_b.status_code == 400
    accepted = client.post(
        "/api/v1/auth/invitation/accept/", {"token": token, "password": "a-fine-passphrase", "full_name": "Fresh"}
    )
    assert accepted.status_code == 200 and accepted.json()["role"] == "member"
    reused = client.post("/api/v1/auth/invitation/accept/", {"token": token, "password": "other-passphrase-2"})
    assert reused.status_code == 400


@pytest.mark.parametrize(
    "actor,payload,status",
    [
        ("manager", {"email": "x@new.test", "role": "viewer"}, 403),  # managers do not manage members
        ("admin", {"email": "x@new.test", "role": "owner"}, 400),  # ownership only by transfer
        ("admin", {"email": "x@new.test", "role": "superuser"}, 400),
        ("admin", {"email": "not-an-email", "role": "viewer"}, 400),
        ("admin", {"role": "viewer"}, 400),
    ],
)
def test_add_member_refusals(api_client_for, tenant_a, actor, payload, status):
    before = Membership.objects.count(), Invitation.objects.count(), User.objects.count()
    response = api_client_for(tenant_a, role=actor).post("/api/v1/members/", payload)
    assert response.status_code == status
    assert (Membership.objects.count(), Invitation.objects.count(), User.objects.count()) == before


def test_admin_can_grant_up_to_admin_but_not_touch_other_admins(api_client_for, tenant_a, platform):
    admin = api_client_for(tenant_a, role="admin")
    viewer = membership(tenant_a, "viewer")
    assert admin.patch(f"/api/v1/members/{viewer.pk}/", {"role": "admin"}).json()["role"] == "admin"
    # viewer is now an admin too: a peer, out of the first admin's reach
    response = admin.patch(f"/api/v1/members/{viewer.pk}/", {"role": "viewer"})
    assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"
    # the owner can
    assert (
        api_client_for(tenant_a, role="owner").patch(f"/api/v1/members/{viewer.pk}/", {"role": "viewer"}).status_code
        == 200
    )


def test_nobody_demotes_deactivates_or_removes_the_owner(api_client_for, tenant_a):
    owner = membership(tenant_a, "owner")
    for actor in ("admin", "owner"):
        client = api_client_for(tenant_a, role=actor)
        assert client.patch(f"/api/v1/members/{owner.pk}/", {"role": "admin"}).status_code in (403, 409)
        assert client.patch(f"/api/v1/members/{owner.pk}/", {"is_active": False}).status_code == 409
        assert client.delete(f"/api/v1/members/{owner.pk}/").status_code == 409
    assert Membership.objects.get(pk=owner.pk).role == "owner"


def test_member_role_changes_need_admin(api_client_for, tenant_a):
    target = membership(tenant_a, "viewer")
    for actor in ("viewer", "member", "manager"):
        assert (
            api_client_for(tenant_a, role=actor).patch(f"/api/v1/members/{target.pk}/", {"role": "member"}).status_code
            == 403
        )
    assert Membership.objects.get(pk=target.pk).role == "viewer"


def test_removed_member_loses_access_immediately(api_client_for, tenant_a):
    victim = api_client_for(tenant_a, role="member")
    assert victim.get("/api/v1/tenant/").status_code == 200
    target = membership(tenant_a, "member")
    assert api_client_for(tenant_a, role="admin").delete(f"/api/v1/members/{target.pk}/").status_code == 204
    assert victim.get("/api/v1/tenant/").status_code == 401


def test_deactivated_member_loses_access_and_can_be_reactivated(api_client_for, tenant_a):
    victim = api_client_for(tenant_a, role="manager")
    target = membership(tenant_a, "manager")
    admin = api_client_for(tenant_a, role="admin")
    assert admin.patch(f"/api/v1/members/{target.pk}/", {"is_active": False}).json()["is_active"] is False
    assert victim.get("/api/v1/tenant/").status_code == 401
    admin.patch(f"/api/v1/members/{target.pk}/", {"is_active": True})
    assert victim.get("/api/v1/tenant/").status_code == 200


def test_a_member_may_leave_but_not_remove_others(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="member")
    other = membership(tenant_a, "viewer")
    assert client.delete(f"/api/v1/members/{other.pk}/").status_code == 403
    assert client.delete(f"/api/v1/members/{membership(tenant_a, 'member').pk}/").status_code == 204


def test_ownership_transfer(api_client_for, tenant_a):
    owner, admin = membership(tenant_a, "owner"), membership(tenant_a, "admin")
    assert (
        api_client_for(tenant_a, role="admin")
        .post("/api/v1/members/transfer-ownership/", {"member": str(admin.pk)})
        .status_code
        == 403
    )
    response = api_client_for(tenant_a, role="owner").post(
        "/api/v1/members/transfer-ownership/", {"member": str(admin.pk)}
    )
    assert response.status_code == 200 and response.json()["role"] == "owner"
    assert Membership.objects.get(pk=owner.pk).role == "admin"
    assert Membership.objects.filter(tenant=tenant_a, role="owner").count() == 1


def test_ownership_transfer_refusals(api_client_for, tenant_a, tenant_b):
    client = api_client_for(tenant_a, role="owner")
    viewer = membership(tenant_a, "viewer")
    Membership.objects.filter(pk=viewer.pk).update(is_active=False)
    assert client.post("/api/v1/members/transfer-ownership/", {"member": str(viewer.pk)}).status_code == 409
    assert client.post("/api/v1/members/transfer-ownership/", {"member": "nope"}).status_code == 400
    other_tenant_member = membership(tenant_b, "admin")
    response = client.post("/api/v1/members/transfer-ownership/", {"member": str(other_tenant_member.pk)})
    assert response.status_code == 404
    assert Membership.objects.get(tenant=tenant_a, role="owner").user.email == "owner@alpha.test"


def test_member_ids_of_other_tenant_are_404(api_client_for, tenant_a, tenant_b):
    foreign = membership(tenant_a, "viewer")
    client = api_client_for(tenant_b, role="owner")
    assert client.get(f"/api/v1/members/{foreign.pk}/").status_code == 404
    assert client.patch(f"/api/v1/members/{foreign.pk}/", {"role": "admin"}).status_code == 404
    assert client.delete(f"/api/v1/members/{foreign.pk}/").status_code == 404
    assert "alpha.test" not in client.get("/api/v1/members/").content.decode()
    assert Membership.objects.get(pk=foreign.pk).role == "viewer"
