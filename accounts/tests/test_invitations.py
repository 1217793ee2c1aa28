"""Invitations: adding a member invites an address; the person accepts (signed in, or by
choosing a password); nothing about an account shows before that; tenants stay apart."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership, User
from audit.models import AuditEvent
from audit.platform.models import SecurityEvent
from core.roles import Role
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fine-passphrase-7"


@pytest.fixture
def invite(api_client_for, tenant_a, django_capture_on_commit_callbacks):
    """`invite(email, role=..., tenant=..., by=...)`: POST /members/ as that role, the
    e-mail sent; returns (response, token from the e-mail or None)."""

    def make(email, role=Role.MEMBER, tenant=None, by=Role.ADMIN):
        sent = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            client = api_client_for(tenant or tenant_a, role=by)
            response = client.post("/api/v1/members/", {"email": email, "role": role})
        return response, (_token(mail.outbox[-1]) if len(mail.outbox) > sent else None)

    return make


def _token(message) -> str:
    return re.search(r'"token": "([^"]+)"', message.body).group(1)


def _shapes(queries) -> list[str]:
    """SQL statements with their values blanked: which queries ran, not with what."""
    return [re.sub(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b", "?", query["sql"]) for query in queries]


def _accept_new(tenant, token, password=NEW_PASSWORD, **extra):
    return APIClient(HTTP_HOST=tenant.primary_host).post(
        "/api/v1/auth/invitation/accept/", {"token": token, "password": password, **extra}
    )


# --- Adding a member reveals nothing about an account --------------------------------------


def test_invite_answers_the_same_for_an_account_and_an_unknown_address(api_client_for, tenant_a, platform, invite):
    known = platform.user(platform.tenants["beta"], Role.MANAGER)
    admin = api_client_for(tenant_a, role=Role.ADMIN)
    admin.post("/api/v1/members/", {"email": "warm-up@nowhere.test", "role": "viewer"})  # caches warm
    answers, shapes = [], []
    for email in (known.email, "nobody-yet@nowhere.test"):
        with CaptureQueriesContext(connection) as queries:
            answers.append(admin.post("/api/v1/members/", {"email": email, "role": "viewer"}))
        shapes.append(_shapes(queries.captured_queries))
    assert [a.status_code for a in answers] == [201, 201]
    bodies = [a.json() for a in answers]
    assert [set(b) for b in bodies] == [set(bodies[1])] * 2
    assert {"id", "email", "role", "status", "expires_at"} <= set(bodies[0])
    assert [b["status"] for b in bodies] == ["invited", "invited"]
    assert known.full_name not in answers[0].content.decode()
    # Not one query ran for one case only: the same statements, in the same order.
    assert shapes[0] == shapes[1]


def test_invite_creates_no_user_and_the_invitee_can_still_sign_up(invite, public_tenant):
    response, _ = invite("Someone.New@Example.test")
    assert response.status_code == 201 and response.json()["email"] == "someone.new@example.test"
    assert not User.objects.filter(email__iexact="someone.new@example.test").exists()
    registered = APIClient(HTTP_HOST="localhost").post(
        "/api/v1/auth/register/", {"email": "someone.new@example.test", "password": NEW_PASSWORD}
    )
    assert registered.status_code == 201  # no more 409 email_taken with no way out
    access = registered.json()["access"]
    mine = APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {access}").get("/api/v1/me/invitations/")
    assert [row["tenant"]["slug"] for row in mine.json()] == ["alpha"]


def test_invitation_mail_is_the_same_for_everyone_and_names_the_tenant_host(invite, platform):
    known = platform.user(platform.tenants["beta"], Role.VIEWER)
    invite(known.email, role=Role.MANAGER)
    invite("stranger@nowhere.test", role=Role.MANAGER)
    first, second = mail.outbox
    assert first.to == [known.email] and second.to == ["stranger@nowhere.test"]
    assert first.subject == second.subject == "You are invited to Alpha on Tessera"

    def blanked(message):
        body = message.body.replace(_token(message), "TOKEN")
        return re.sub(r"/me/invitations/[0-9a-f-]+/", "/me/invitations/ID/", body)

    assert blanked(first) == blanked(second)
    assert "http://alpha.localhost/api/v1/auth/invitation/accept/" in first.body
    assert "as manager" in first.body and "admin@alpha.test" in first.body
    assert known.full_name not in first.body
    assert not first.alternatives  # plain text only


def test_inviting_a_member_of_this_tenant_or_twice_is_409(invite):
    assert invite("viewer@alpha.test")[0].json()["code"] == "already_member"
    assert invite("again@nowhere.test")[0].status_code == 201
    twice, token = invite("AGAIN@nowhere.test")
    assert (twice.status_code, twice.json()["code"], token) == (409, "already_invited", None)
    assert Invitation.objects.filter(email="again@nowhere.test").count() == 1


def test_nobody_invites_above_their_own_role_and_only_admins_invite(invite):
    assert invite("x@nowhere.test", role=Role.ADMIN)[0].status_code == 201
    assert invite("y@nowhere.test", by=Role.MANAGER)[0].status_code == 403
    assert invite("z@nowhere.test", role=Role.OWNER)[0].status_code == 400
    assert list(Invitation.objects.values_list("email", flat=True)) == ["x@nowhere.test"]


# --- Listed beside the members --------------------------------------------------------------


def test_members_list_shows_invitations_beside_members(api_client_for, tenant_a, invite):
    invitation = invite("listed@nowhere.test", role=Role.VIEWER)[0].json()
    client = api_client_for(tenant_a, role=Role.VIEWER)  # any member reads the list
    body = client.get("/api/v1/members/").json()
    assert body["count"] == 6
    by_status = {row["status"] for row in body["results"]}
    assert by_status == {"active", "invited"}
    [row] = [row for row in body["results"] if row["status"] == "invited"]
    assert row["id"] == invitation["id"] and row["email"] == "listed@nowhere.test" and row["role"] == "viewer"
    assert row["user"] is None and row["is_active"] is None and row["joined_at"] is None
    assert row["expires_at"] == invitation["expires_at"] and row["invited_by"]["email"] == "admin@alpha.test"
    member = next(row for row in body["results"] if row["status"] == "active")
    # Members keep every field current clients read.
    assert {"id", "user", "role", "is_active", "joined_at", "updated_at"} <= set(member)
    assert member["user"]["email"] == member["email"] and member["expires_at"] is None


def test_members_list_filters_searches_orders_and_pages_both_kinds(api_client_for, tenant_a, invite):
    for email in ("inv-1@nowhere.test", "inv-2@nowhere.test", "inv-3@nowhere.test"):
        invite(email, role=Role.MANAGER)
    client = api_client_for(tenant_a, role=Role.ADMIN)

    def rows(query=""):
        return client.get(f"/api/v1/members/{query}").json()

    assert rows("?status=invited")["count"] == 3 and rows("?status=active")["count"] == 5
    assert {r["status"] for r in rows("?role=manager")["results"]} == {"active", "invited"}
    assert rows("?role=manager")["count"] == 4
    assert rows("?is_active=true")["count"] == 5  # invitations have no is_active
    assert [r["email"] for r in rows("?search=inv-2")["results"]] == ["inv-2@nowhere.test"]
    assert [r["email"] for r in rows("?search=alpha viewer")["results"]] == ["viewer@alpha.test"]
    assert rows("?ordering=-joined_at")["results"][0]["email"] == "inv-3@nowhere.test"
    assert rows("?ordering=user__email")["results"][0]["email"] == "admin@alpha.test"
    assert client.get("/api/v1/members/?status=gone").status_code == 400
    assert client.get("/api/v1/members/?ordering=password").status_code == 400
    seen, page = [], rows("?page_size=3")
    while True:
        seen += [r["id"] for r in page["results"]]
        if page["next"] is None:
            break
        page = client.get(page["next"]).json()
    assert len(seen) == len(set(seen)) == page["count"] == 8


# --- Revoke and resend ----------------------------------------------------------------------


def test_admin_revokes_an_invitation_and_its_token_dies(api_client_for, tenant_a, invite):
    invitation, token = invite("revoked@nowhere.test")
    path = f"/api/v1/invitations/{invitation.json()['id']}/"
    assert api_client_for(tenant_a, role=Role.MANAGER).delete(path).status_code == 403
    assert api_client_for(tenant_a, role=Role.ADMIN).delete(path).status_code == 204
    assert api_client_for(tenant_a, role=Role.ADMIN).delete(path).status_code == 404
    assert _accept_new(tenant_a, token).status_code == 400
    assert api_client_for(tenant_a, role=Role.ADMIN).get("/api/v1/members/?status=invited").json()["count"] == 0
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="invitation.revoked", object_id=invitation.json()["id"]).exists()


def test_resend_mails_a_new_token_and_renews_the_expiry(
    api_client_for, tenant_a, invite, django_capture_on_commit_callbacks
):
    response, old_token = invite("resent@nowhere.test")
    invitation_id = response.json()["id"]
    Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() - timedelta(days=1))
    assert _accept_new(tenant_a, old_token).status_code == 400  # expired
    path = f"/api/v1/invitations/{invitation_id}/resend/"
    assert api_client_for(tenant_a, role=Role.MANAGER).post(path).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        resent = api_client_for(tenant_a, role=Role.ADMIN).post(path)
    assert resent.status_code == 200 and resent.json()["status"] == "invited"
    assert resent.json()["expires_at"] > response.json()["expires_at"]
    new_token = _token(mail.outbox[-1])
    assert len(mail.outbox) == 2 and new_token != old_token and mail.outbox[-1].to == ["resent@nowhere.test"]
    assert _accept_new(tenant_a, old_token).status_code == 400
    assert _accept_new(tenant_a, new_token).status_code == 200


def test_invitations_are_limited_per_tenant(api_client_for, tenant_a, tenant_b, invite, monkeypatch):
    from accounts.throttles import PlatformRateThrottle

    rates = {**PlatformRateThrottle.THROTTLE_RATES, "invitation": "2/h"}
    monkeypatch.setattr(PlatformRateThrottle, "THROTTLE_RATES", rates)
    first = invite("one@nowhere.test")[0]
    assert invite("two@nowhere.test", by=Role.OWNER)[0].status_code == 201  # one budget, whoever sends
    refused, token = invite("three@nowhere.test")
    assert refused.status_code == 429 and "Retry-After" in refused and token is None
    resend = api_client_for(tenant_a, role=Role.ADMIN).post(f"/api/v1/invitations/{first.json()['id']}/resend/")
    assert resend.status_code == 429  # resending counts too
    assert not Invitation.objects.filter(email="three@nowhere.test").exists() and len(mail.outbox) == 2
    events = SecurityEvent.objects.filter(action="security.invitation_abuse")
    assert {(e.tenant_slug, e.actor_email) for e in events} == {("alpha", "admin@alpha.test")} and len(events) == 2
    assert invite("elsewhere@nowhere.test", tenant=tenant_b)[0].status_code == 201  # each tenant its own


# --- Accepting: new account -----------------------------------------------------------------


def test_new_account_accepts_with_a_password_and_gets_tokens(tenant_a, invite, platform):
    _, token = invite("brand.new@nowhere.test", role=Role.MANAGER)
    weak = _accept_new(tenant_a, token, password="12345678901")
    assert weak.status_code == 400 and "password" in weak.json()
    assert not User.objects.filter(email="brand.new@nowhere.test").exists()  # nothing half-made
    accepted = _accept_new(tenant_a, token, full_name="Brand New")
    assert accepted.status_code == 200
    body = accepted.json()
    assert body["role"] == "manager" and body["tenant"]["slug"] == "alpha" and body["access"]
    user = User.objects.get(email="brand.new@nowhere.test")
    membership = Membership.objects.get(tenant=tenant_a, user=user)
    assert (membership.role, membership.invited_by) == ("manager", platform.user(tenant_a, Role.ADMIN))
    assert user.full_name == "Brand New" and user.check_password(NEW_PASSWORD)
    me = APIClient(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Bearer {body['access']}").get("/api/v1/me/")
    assert me.json()["role"] == "manager"
    assert _accept_new(tenant_a, token).status_code == 400  # used up
    assert not Invitation.objects.filter(email="brand.new@nowhere.test").exists()
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="invitation.accepted", actor_email="brand.new@nowhere.test").exists()


def test_token_of_an_address_with_an_account_cannot_set_its_password(tenant_a, invite, platform):
    known = platform.user(platform.tenants["beta"], Role.MEMBER)
    _, token = invite(known.email)
    response = _accept_new(tenant_a, token)
    assert response.status_code == 409 and response.json()["code"] == "email_taken"
    known.refresh_from_db()
    assert known.check_password(PASSWORD) and Invitation.objects.filter(email=known.email).exists()


def test_expired_invitation_token_fails(tenant_a, invite):
    _, token = invite("late@nowhere.test")
    Invitation.objects.filter(email="late@nowhere.test").update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _accept_new(tenant_a, token)
    assert response.status_code == 400 and response.json()["token"]
    assert not User.objects.filter(email="late@nowhere.test").exists()


# --- Accepting: signed in -------------------------------------------------------------------


def test_signed_in_user_lists_and_accepts_an_invitation_from_any_host(
    api_client_for, tenant_a, tenant_b, public_tenant, outsider, invite, platform
):
    invitation = invite(outsider.email, role=Role.VIEWER)[0].json()
    on_public = api_client_for(public_tenant, user=outsider)
    [row] = on_public.get("/api/v1/me/invitations/").json()
    assert row["id"] == invitation["id"] and row["role"] == "viewer"
    tenant = row["tenant"]
    assert (tenant["slug"], tenant["name"], tenant["host"]) == ("alpha", "Alpha", "alpha.localhost")
    accepted = on_public.post(f"/api/v1/me/invitations/{invitation['id']}/accept/")
    assert accepted.status_code == 200
    assert accepted.json()["tenant"]["slug"] == "alpha" and accepted.json()["role"] == "viewer"
    membership = Membership.objects.get(tenant=tenant_a, user=outsider)
    assert membership.role == "viewer" and membership.invited_by == platform.user(tenant_a, Role.ADMIN)
    assert on_public.get("/api/v1/me/invitations/").json() == []
    assert on_public.post(f"/api/v1/me/invitations/{invitation['id']}/accept/").status_code == 404
    login = APIClient(HTTP_HOST="alpha.localhost").post(
        "/api/v1/auth/token/", {"email": outsider.email, "password": PASSWORD}
    )
    assert login.status_code == 200 and login.json()["role"] == "viewer"
    # A member of beta sees and answers an invitation to alpha on beta's host too.
    beta_member = platform.user(tenant_b, Role.MEMBER)
    second = invite(beta_member.email, role=Role.MEMBER)[0].json()
    on_b = api_client_for(tenant_b, user=beta_member)
    assert [r["id"] for r in on_b.get("/api/v1/me/invitations/").json()] == [second["id"]]
    assert on_b.post(f"/api/v1/me/invitations/{second['id']}/accept/").status_code == 200
    assert Membership.objects.filter(tenant=tenant_a, user=beta_member, role="member").exists()


def test_signed_in_user_declines_an_invitation(api_client_for, tenant_a, public_tenant, outsider, invite):
    invitation_id = invite(outsider.email)[0].json()["id"]
    client = api_client_for(public_tenant, user=outsider)
    assert client.post(f"/api/v1/me/invitations/{invitation_id}/decline/").status_code == 204
    assert not Invitation.objects.filter(pk=invitation_id).exists()
    assert not Membership.objects.filter(tenant=tenant_a, user=outsider).exists()
    assert client.post(f"/api/v1/me/invitations/{invitation_id}/accept/").status_code == 404
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="invitation.declined", actor_email=outsider.email).exists()


def test_accepting_when_already_a_member_is_409(api_client_for, tenant_a, public_tenant, outsider, invite):
    invitation_id = invite(outsider.email)[0].json()["id"]
    Membership.objects.create(tenant=tenant_a, user=outsider, role=Role.VIEWER)
    response = api_client_for(public_tenant, user=outsider).post(f"/api/v1/me/invitations/{invitation_id}/accept/")
    assert response.status_code == 409 and response.json()["code"] == "already_member"


def test_expired_or_inactive_tenants_invitations_are_not_listed_nor_accepted(
    api_client_for, tenant_a, public_tenant, outsider, invite
):
    invitation_id = invite(outsider.email)[0].json()["id"]
    client = api_client_for(public_tenant, user=outsider)
    Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get("/api/v1/me/invitations/").json() == []
    assert client.post(f"/api/v1/me/invitations/{invitation_id}/accept/").status_code == 404
    Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() + timedelta(days=1))
    type(tenant_a).objects.filter(pk=tenant_a.pk).update(status="suspended")
    assert client.get("/api/v1/me/invitations/").json() == []
    assert not Membership.objects.filter(user=outsider).exists()


def test_me_invitations_needs_a_signed_in_user(public_tenant):
    assert APIClient(HTTP_HOST="localhost").get("/api/v1/me/invitations/").status_code == 401


# --- Isolation ------------------------------------------------------------------------------


def test_invitation_of_tenant_a_is_out_of_reach_from_tenant_b_and_other_users(
    api_client_for, tenant_a, tenant_b, public_tenant, outsider, invite, platform
):
    invitation, token = invite(outsider.email)
    invitation_id = invitation.json()["id"]
    owner_b = api_client_for(tenant_b, role=Role.OWNER)
    assert owner_b.delete(f"/api/v1/invitations/{invitation_id}/").status_code == 404
    assert owner_b.post(f"/api/v1/invitations/{invitation_id}/resend/").status_code == 404
    assert outsider.email not in owner_b.get("/api/v1/members/").content.decode()
    assert _accept_new(tenant_b, token).status_code == 400
    someone_else = api_client_for(tenant_b, role=Role.VIEWER)
    assert someone_else.get("/api/v1/me/invitations/").json() == []
    for answer in ("accept", "decline"):
        assert someone_else.post(f"/api/v1/me/invitations/{invitation_id}/{answer}/").status_code == 404
    # ... nor through the invitation's own tenant by a member who is not the invitee.
    admin_a = api_client_for(tenant_a, role=Role.ADMIN)
    assert admin_a.post(f"/api/v1/me/invitations/{invitation_id}/accept/").status_code == 404
    assert Invitation.objects.filter(pk=invitation_id).exists()
    assert not Membership.objects.filter(user=outsider).exists()
    assert len(mail.outbox) == 1


def test_member_routes_do_not_take_invitation_ids_nor_the_reverse(api_client_for, tenant_a, invite):
    invitation_id = invite("ids@nowhere.test")[0].json()["id"]
    admin = api_client_for(tenant_a, role=Role.ADMIN)
    assert admin.get(f"/api/v1/members/{invitation_id}/").status_code == 404
    assert admin.delete(f"/api/v1/members/{invitation_id}/").status_code == 404
    member = Membership.objects.get(tenant=tenant_a, role=Role.VIEWER)
    assert admin.delete(f"/api/v1/invitations/{member.pk}/").status_code == 404
    assert Membership.objects.filter(pk=member.pk).exists()


def test_operators_see_and_revoke_invitations_in_the_admin(invite, tenant_a, client):
    invitation_id = invite("ops-view@nowhere.test")[0].json()["id"]
    operator = User.objects.create_superuser(email="ops@tessera.test", password="ops-password-long")
    client.force_login(operator)
    listing = client.get("/admin/accounts/invitation/?q=ops-view", HTTP_HOST="localhost")
    assert listing.status_code == 200 and "ops-view@nowhere.test" in listing.content.decode()
    assert client.get("/admin/accounts/invitation/add/", HTTP_HOST="localhost").status_code == 403
    page = client.get(f"/admin/accounts/invitation/{invitation_id}/change/", HTTP_HOST="localhost")
    assert page.status_code == 200 and "token_hash" not in page.content.decode()
    deleted = client.post(f"/admin/accounts/invitation/{invitation_id}/delete/", {"post": "yes"}, HTTP_HOST="localhost")
    assert deleted.status_code == 302 and not Invitation.objects.filter(pk=invitation_id).exists()
    with tenant_context(tenant_a):
        assert AuditEvent.objects.filter(action="invitation.revoked", actor_email="ops@tessera.test").exists()
