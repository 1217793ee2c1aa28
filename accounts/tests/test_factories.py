"""accounts' factories make rows the services accept as real."""

import pytest

from accounts.models import Membership, User
from accounts.selectors import membership_role, session_revoked
from accounts.services import invitation_accept_new_account, password_reset_confirm
from accounts.tests.factories import (
    InvitationFactory,
    MembershipFactory,
    PasswordResetTokenFactory,
    RevokedSessionFactory,
    UserFactory,
)
from core.roles import Role
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def test_user_factory_makes_distinct_users_who_sign_in_with_the_shared_password():
    first, second = UserFactory(), UserFactory()
    assert first.email != second.email
    for user in (first, second):
        user.full_clean()
        assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_membership_factory_gives_a_new_user_a_role_in_the_named_tenant(tenant_a):
    member = MembershipFactory(tenant=tenant_a)
    manager = MembershipFactory(tenant=tenant_a, role=Role.MANAGER)
    member.full_clean()
    assert member.user != manager.user
    assert membership_role(tenant_id=tenant_a.pk, user_id=member.user.pk) == Role.MEMBER
    assert membership_role(tenant_id=tenant_a.pk, user_id=manager.user.pk) == Role.MANAGER


def test_membership_factory_refuses_to_guess_the_tenant():
    with pytest.raises(TypeError, match="tenant="):
        MembershipFactory()


def test_invitation_factory_makes_a_pending_invitation_its_token_redeems(tenant_a):
    invitation = InvitationFactory(tenant=tenant_a, role=Role.VIEWER, token="known-token")
    invitation.full_clean()
    assert not invitation.is_expired
    user = invitation_accept_new_account(tenant=tenant_a, token="known-token", password=PASSWORD)
    assert user.email == invitation.email
    assert Membership.objects.get(tenant=tenant_a, user=user).role == Role.VIEWER


def test_password_reset_token_factory_makes_a_token_that_resets_the_password():
    reset = PasswordResetTokenFactory(token="known-token")
    reset.full_clean()
    password_reset_confirm(token="known-token", password="another-horse-battery-77")
    assert User.objects.get(pk=reset.user.pk).check_password("another-horse-battery-77")


def test_revoked_session_factory_signs_the_session_out():
    revoked = RevokedSessionFactory()
    revoked.full_clean()
    assert session_revoked(revoked.sid)
    assert not session_revoked("never-signed-out")
