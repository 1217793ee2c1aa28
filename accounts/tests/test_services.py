"""accounts' member rules driven through the services, without HTTP: who may change,
deactivate or remove whom (actor role x target role), the owner's protection, and
ownership transfer. (Which roles reach these services at all is the API's permission
classes' business, tested in test_members.py.)"""

import pytest
from django_tenants.utils import tenant_context

from accounts.exceptions import (
    EmailTaken,
    InvalidEmail,
    InvalidPassword,
    InvalidRole,
    MembershipNotFound,
    OwnerProtected,
    RoleNotAllowed,
)
from accounts.models import Membership, User
from accounts.services import member_remove, member_update, membership_create, ownership_transfer, user_create
from accounts.tests.factories import MembershipFactory, UserFactory
from audit.models import AuditEvent
from audit.platform.models import PlatformEvent
from core.roles import Role
from tenants.tests.factories import TenantFactory
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db

OWNER, ADMIN, MANAGER, MEMBER, VIEWER = Role.OWNER, Role.ADMIN, Role.MANAGER, Role.MEMBER, Role.VIEWER
ROLES = [OWNER, ADMIN, MANAGER, MEMBER, VIEWER]

# Whose membership each role may change, deactivate or remove (someone else's; the
# owner's is protected from everyone): the owner everyone's, the others only roles
# strictly below their own.
MAY_MANAGE = {
    OWNER: {ADMIN, MANAGER, MEMBER, VIEWER},
    ADMIN: {MANAGER, MEMBER, VIEWER},
    MANAGER: {MEMBER, VIEWER},
    MEMBER: {VIEWER},
    VIEWER: set(),
}
# Which roles each role may hand out: up to its own, never ownership.
MAY_GRANT = {
    OWNER: {ADMIN, MANAGER, MEMBER, VIEWER},
    ADMIN: {ADMIN, MANAGER, MEMBER, VIEWER},
    MANAGER: {MANAGER, MEMBER, VIEWER},
    MEMBER: {MEMBER, VIEWER},
    VIEWER: {VIEWER},
}
# Every actor with every other person's role (there is one owner, so never owner x owner).
PAIRS = [(actor, target) for actor in ROLES for target in ROLES if (actor, target) != (OWNER, OWNER)]


def refusal(actor_role: str, target_role: str):
    """What managing a target refuses with, or None when it is allowed."""
    if target_role == OWNER:
        return OwnerProtected
    return None if target_role in MAY_MANAGE[actor_role] else RoleNotAllowed


def someone(tenant, role: str) -> Membership:
    """A membership with `role` other than the shared users' (the owner is the owner)."""
    if role == OWNER:
        return Membership.objects.get(tenant=tenant, role=OWNER)
    return MembershipFactory(tenant=tenant, role=role)


def stored(membership: Membership) -> tuple | None:
    return Membership.objects.filter(pk=membership.pk).values_list("role", "is_active").first()


def trail(tenant, membership: Membership) -> list[tuple]:
    with tenant_context(tenant):
        events = AuditEvent.objects.filter(object_id=str(membership.pk)).order_by("at")
        return list(events.values_list("action", "actor_email", "changes"))


def lower_role(role: str) -> str:
    """A role other than `role` that any actor able to manage `role` may also grant."""
    return MEMBER if role == VIEWER else VIEWER


# --- managing someone else ---------------------------------------------------------------


@pytest.mark.parametrize(("actor_role", "target_role"), PAIRS)
def test_member_remove_follows_the_rank_rules(platform, tenant_a, actor_role, target_role):
    actor, target = platform.user(tenant_a, actor_role), someone(tenant_a, target_role)
    before, events_before = stored(target), trail(tenant_a, target)
    refused = refusal(actor_role, target_role)
    if refused:
        with pytest.raises(refused):
            member_remove(membership=target, actor=actor, actor_role=actor_role)
        assert stored(target) == before and trail(tenant_a, target) == events_before
        return
    member_remove(membership=target, actor=actor, actor_role=actor_role)
    assert stored(target) is None
    assert trail(tenant_a, target)[len(events_before) :] == [
        ("membership.removed", actor.email, {"user": [None, target.user.email], "role": [target_role, None]})
    ]


@pytest.mark.parametrize(("actor_role", "target_role"), PAIRS)
def test_member_deactivate_follows_the_rank_rules(platform, tenant_a, actor_role, target_role):
    actor, target = platform.user(tenant_a, actor_role), someone(tenant_a, target_role)
    before, events_before = stored(target), trail(tenant_a, target)
    refused = refusal(actor_role, target_role)
    if refused:
        with pytest.raises(refused):
            member_update(membership=target, actor=actor, actor_role=actor_role, is_active=False)
        assert stored(target) == before and trail(tenant_a, target) == events_before
        return
    member_update(membership=target, actor=actor, actor_role=actor_role, is_active=False)
    assert stored(target) == (target_role, False)
    assert trail(tenant_a, target)[len(events_before) :] == [
        ("membership.changed", actor.email, {"user": [None, target.user.email], "is_active": [True, False]})
    ]


@pytest.mark.parametrize(("actor_role", "target_role"), PAIRS)
def test_member_role_change_follows_the_rank_rules(platform, tenant_a, actor_role, target_role):
    actor, target = platform.user(tenant_a, actor_role), someone(tenant_a, target_role)
    new_role = lower_role(target_role)
    before, events_before = stored(target), trail(tenant_a, target)
    refused = refusal(actor_role, target_role)
    if refused:
        with pytest.raises(refused):
            member_update(membership=target, actor=actor, actor_role=actor_role, role=new_role)
        assert stored(target) == before and trail(tenant_a, target) == events_before
        return
    member_update(membership=target, actor=actor, actor_role=actor_role, role=new_role)
    assert stored(target) == (new_role, True)
    assert trail(tenant_a, target)[len(events_before) :] == [
        ("membership.changed", actor.email, {"user": [None, target.user.email], "role": [target_role, new_role]})
    ]


@pytest.mark.parametrize(
    ("actor_role", "new_role"), [(actor, role) for actor in ROLES if actor != VIEWER for role in ROLES]
)
def test_nobody_grants_a_role_above_their_own_or_ownership(platform, tenant_a, actor_role, new_role):
    """On a viewer, whom every role but viewer may manage."""
    actor, target = platform.user(tenant_a, actor_role), someone(tenant_a, VIEWER)
    if new_role in MAY_GRANT[actor_role]:
        member_update(membership=target, actor=actor, actor_role=actor_role, role=new_role)
        assert stored(target) == (new_role, True)
        return
    with pytest.raises(InvalidRole if new_role == OWNER else RoleNotAllowed):
        member_update(membership=target, actor=actor, actor_role=actor_role, role=new_role)
    assert stored(target) == (VIEWER, True)


def test_a_role_that_does_not_exist_is_refused(platform, tenant_a):
    target = someone(tenant_a, VIEWER)
    with pytest.raises(InvalidRole) as refused:
        member_update(membership=target, actor=platform.user(tenant_a, OWNER), actor_role=OWNER, role="superuser")
    assert refused.value.field == "role"
    assert stored(target) == (VIEWER, True)


def test_an_update_that_changes_nothing_records_nothing(platform, tenant_a):
    target = someone(tenant_a, MEMBER)
    events_before = trail(tenant_a, target)
    member_update(
        membership=target, actor=platform.user(tenant_a, ADMIN), actor_role=ADMIN, role=MEMBER, is_active=True
    )
    assert stored(target) == (MEMBER, True) and trail(tenant_a, target) == events_before


# --- acting on oneself ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_any_member_but_the_owner_may_leave(tenant_a, role):
    own = someone(tenant_a, role)
    if role == OWNER:
        with pytest.raises(OwnerProtected):
            member_remove(membership=own, actor=own.user, actor_role=role)
        assert stored(own) == (OWNER, True)
        return
    member_remove(membership=own, actor=own.user, actor_role=role)
    assert stored(own) is None


@pytest.mark.parametrize("role", ROLES)
def test_any_member_but_the_owner_may_deactivate_themselves(tenant_a, role):
    own = someone(tenant_a, role)
    if role == OWNER:
        with pytest.raises(OwnerProtected):
            member_update(membership=own, actor=own.user, actor_role=role, is_active=False)
        assert stored(own) == (OWNER, True)
        return
    member_update(membership=own, actor=own.user, actor_role=role, is_active=False)
    assert stored(own) == (role, False)


@pytest.mark.parametrize("role", ROLES)
def test_nobody_changes_their_own_role(tenant_a, role):
    own = someone(tenant_a, role)
    with pytest.raises(OwnerProtected if role == OWNER else RoleNotAllowed):
        member_update(membership=own, actor=own.user, actor_role=role, role=VIEWER if role != VIEWER else MEMBER)
    assert stored(own) == (role, True)


# --- ownership ------------------------------------------------------------------------------


@pytest.fixture
def fresh():
    """A tenant of this test's own, since transfers change who owns it."""
    tenant = TenantFactory()
    return tenant, Membership.objects.get(tenant=tenant, role=OWNER)


@pytest.mark.parametrize("role", [ADMIN, MANAGER, MEMBER, VIEWER])
def test_ownership_transfer_makes_the_old_owner_an_admin(fresh, role):
    tenant, owner = fresh
    heir = MembershipFactory(tenant=tenant, role=role)
    returned = ownership_transfer(tenant=tenant, to_membership_id=heir.pk, actor=owner.user)
    assert returned.pk == heir.pk
    assert (stored(heir), stored(owner)) == ((OWNER, True), (ADMIN, True))
    assert trail(tenant, heir)[-1][:2] == ("tenant.ownership_transferred", owner.user.email)
    assert trail(tenant, heir)[-1][2]["role"] == [role, OWNER]
    assert trail(tenant, owner)[-1][2]["role"] == [OWNER, ADMIN]


@pytest.mark.parametrize("role", [ADMIN, MANAGER, MEMBER, VIEWER])
def test_only_the_owner_transfers_ownership(fresh, role):
    tenant, owner = fresh
    actor = MembershipFactory(tenant=tenant, role=role)
    with pytest.raises(RoleNotAllowed):
        ownership_transfer(tenant=tenant, to_membership_id=actor.pk, actor=actor.user)
    assert (stored(owner), stored(actor)) == ((OWNER, True), (role, True))


def test_ownership_goes_only_to_another_active_member_of_the_tenant(fresh, tenant_b):
    tenant, owner = fresh
    inactive = MembershipFactory(tenant=tenant, is_active=False)
    disabled = MembershipFactory(tenant=tenant, user=UserFactory(is_active=False))
    elsewhere = MembershipFactory(tenant=tenant_b, user=UserFactory())
    for heir, refused in (
        (owner, OwnerProtected),
        (inactive, OwnerProtected),
        (disabled, OwnerProtected),
        (elsewhere, MembershipNotFound),
    ):
        with pytest.raises(refused):
            ownership_transfer(tenant=tenant, to_membership_id=heir.pk, actor=owner.user)
    assert list(Membership.objects.filter(tenant=tenant, role=OWNER)) == [owner]
    assert stored(inactive) == (MEMBER, False) and stored(elsewhere) == (MEMBER, True)


# --- creating users and memberships ---------------------------------------------------------


def test_membership_create_adds_the_role_and_records_who_added_it(platform, tenant_a):
    admin, user = platform.user(tenant_a, ADMIN), UserFactory()
    membership = membership_create(tenant=tenant_a, user=user, role=MANAGER, actor=admin)
    assert stored(membership) == (MANAGER, True) and membership.invited_by == admin
    assert trail(tenant_a, membership) == [
        ("membership.added", admin.email, {"user": [None, user.email], "role": [None, MANAGER]})
    ]


def test_user_create_lowercases_the_email_and_records_it_on_the_platform(platform):
    operator = UserFactory(is_staff=True)
    user = user_create(email="  New.Person@Example.TEST ", password=PASSWORD, actor=operator)
    assert user.email == "new.person@example.test" and User.objects.get(pk=user.pk).check_password(PASSWORD)
    event = PlatformEvent.objects.get(object_id=str(user.pk))
    assert (event.action, event.actor_email) == ("user.created", operator.email)
    assert "correct-horse" not in str(event.changes)


def test_user_create_self_service_is_a_registration_by_the_user():
    user = user_create(email="self@example.test", password=PASSWORD, self_service=True)
    event = PlatformEvent.objects.get(object_id=str(user.pk))
    assert (event.action, event.actor_email) == ("user.registered", "self@example.test")


def test_user_create_without_password_leaves_it_unusable():
    user = user_create(email="invited@example.test", password=None)
    assert not User.objects.get(pk=user.pk).has_usable_password()


@pytest.mark.parametrize(
    ("email", "password", "refused"),
    [
        ("OWNER@alpha.test", PASSWORD, EmailTaken),
        ("not-an-address", PASSWORD, InvalidEmail),
        ("fresh@example.test", "short", InvalidPassword),
        ("fresh@example.test", "password123", InvalidPassword),
        ("fresh@example.test", "12345678901", InvalidPassword),
    ],
)
def test_user_create_refuses_taken_emails_and_weak_passwords(platform, email, password, refused):
    users_before = User.objects.count()
    with pytest.raises(refused):
        user_create(email=email, password=password)
    assert User.objects.count() == users_before
