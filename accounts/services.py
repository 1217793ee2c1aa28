"""Writes of users and memberships. Every function is one transaction.

The role rules a user would expect live here, checked against the acting member's role:
nobody grants or touches a role above their own, the owner is never removed, deactivated
or demoted (ownership moves only by transfer), and a tenant always keeps its one owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from audit.services import audit_record, security_event_record
from core.roles import Role, rank

from .exceptions import (
    AlreadyMember,
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    InvalidInvitation,
    InvalidPassword,
    InvalidRole,
    MembershipNotFound,
    OwnerProtected,
    RoleNotAllowed,
)
from .models import Membership, User, UserManager
from .selectors import membership_exists, membership_role, user_get_by_email
from .tokens import tokens_issue, tokens_revoke_all

if TYPE_CHECKING:  # accounts sits below tenants: it names the type, never imports the code
    from tenants.models import Tenant


def _clean_email(email: str) -> str:
    email = UserManager.normalize_email(email)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidEmail("Enter a valid e-mail address.") from exc
    return email


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidPassword(" ".join(exc.messages)) from exc


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    full_name: str = "",
    is_staff: bool = False,
    actor: User | None = None,
    self_service: bool = False,
) -> User:
    """A new user; `password=None` leaves it unusable until an invitation is accepted.

    `self_service` marks a sign-up: the event is `user.registered`, by the user.
    """
    email = _clean_email(email)
    if user_get_by_email(email):
        raise EmailTaken()
    user = User(email=email, full_name=(full_name or "").strip(), is_staff=is_staff)
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent sign-up with the same address won
        raise EmailTaken() from exc
    audit_record(
        action="user.registered" if self_service else "user.created",
        target=user,
        actor=user if self_service else actor,
        changes={"email": [None, user.email], "is_staff": [None, is_staff], "password": None},
        platform=True,
    )
    return user


@transaction.atomic
def user_update(*, user: User, full_name: str) -> User:
    before = user.full_name
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name", "updated_at"])
    if before != user.full_name:
        audit_record(
            action="user.updated",
            target=user,
            actor=user,
            changes={"full_name": [before, user.full_name]},
            platform=True,
        )
    return user


@transaction.atomic
def user_password_change(*, user: User, current_password: str, new_password: str) -> User:
    """Change the password and end every other session: older tokens stop working."""
    if not user.check_password(current_password):
        raise InvalidPassword("Current password is incorrect.", field="current_password")
    _check_password(new_password, user)
    user.set_password(new_password)
    user.tokens_valid_after = timezone.now()
    tokens_revoke_all(user=user)
    user.save(update_fields=["password", "tokens_valid_after", "token_version", "updated_at"])
    audit_record(action="user.password_changed", target=user, actor=user, changes={"password": None}, platform=True)
    return user


def login_attempt(*, request, tenant: Tenant, email: str, password: str) -> User:
    """The user if the credentials are right and (on a tenant host) the membership is
    active; otherwise InvalidCredentials, one answer for every reason.

    Nothing on the host where it was tried tells a right password of a non-member from
    a wrong one: the same work is done either way (the account and its membership are
    looked up before the password is checked), the same answer is given, and the
    failure goes to the operators' security events. Only a failure against one of this
    tenant's own members is also written to the tenant's trail, whatever its reason.
    """
    account = user_get_by_email(email)
    member_here = (
        account is not None and not tenant.is_public and membership_exists(tenant_id=tenant.pk, user_id=account.pk)
    )
    role = membership_role(tenant_id=tenant.pk, user_id=account.pk) if member_here and account else None
    user = authenticate(request, email=email, password=password)
    if user is not None and (tenant.is_public or role):
        return user
    security_event_record(kind="login_failed", email=(email or "").strip(), user=account, tenant=tenant)
    if member_here and account is not None:
        audit_record(
            action="auth.login_failed",
            object_type="accounts.user",
            object_id=str(account.pk),
            tenant=tenant,
            changes={"email": [None, account.email]},
        )
    raise InvalidCredentials()


@transaction.atomic
def session_start(*, user: User, tenant: Tenant, method: str) -> dict:
    """Tokens for `user` on `tenant`'s host, recorded as a login in that host's trail:
    `{access, refresh, tenant, role}`, with tenant and role None on the public host."""
    tokens = tokens_issue(user=user, tenant=tenant)
    audit_record(action="auth.login", target=user, actor=user, tenant=tenant, changes={"method": [None, method]})
    if tenant.is_public:
        return {**tokens, "tenant": None, "role": None}
    return {**tokens, "tenant": tenant, "role": membership_role(tenant_id=tenant.pk, user_id=user.pk)}


@dataclass(frozen=True)
class MemberAdded:
    membership: Membership
    invited: bool


def _check_can_grant(*, actor_role: str, role: str) -> None:
    if role not in Role.values:
        raise InvalidRole(f'"{role}" is not a role; choose one of {", ".join(Role.values)}.')
    if role == Role.OWNER:
        raise InvalidRole("Ownership is given only by transfer-ownership.")
    if rank(role) > rank(actor_role):
        raise RoleNotAllowed(f"You cannot grant a role above your own ({actor_role}).")


def _check_can_manage(*, actor: User, actor_role: str, membership: Membership) -> None:
    if membership.role == Role.OWNER:
        raise OwnerProtected()
    if actor_role != Role.OWNER and membership.user_id != actor.pk and rank(membership.role) >= rank(actor_role):
        raise RoleNotAllowed("You can only manage members whose role is below yours.")


def _membership_event(action: str, membership: Membership, actor: User | None, changes: dict) -> None:
    """Membership events go to the tenant's own trail, whichever host made the change."""
    audit_record(
        action=action,
        target=membership,
        actor=actor,
        tenant=membership.tenant,
        changes={"user": [None, membership.user.email], **changes},
    )


@transaction.atomic
def membership_create(*, tenant: Tenant, user: User, role: str, actor: User | None = None) -> Membership:
    membership = Membership.objects.create(tenant=tenant, user=user, role=role, invited_by=actor)
    _membership_event("membership.added", membership, actor, {"role": [None, role]})
    return membership


def _send_invitation(*, user: User, tenant: Tenant, invited_by: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    host = tenant.primary_host
    send_mail(
        subject=f"You are invited to {tenant.name} on Tessera",
        message=(
            f"{invited_by.get_full_name()} invited you to {tenant.name}.\n\n"
            f"Choose a password to accept:\n"
            f"  POST https://{host}/api/v1/auth/invitation/accept/\n"
            f'  {{"uid": "{uid}", "token": "{token}", "password": "<your new password>"}}\n'
        ),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def member_add(*, tenant: Tenant, email: str, role: str, actor: User, actor_role: str) -> MemberAdded:
    """Add an existing user by e-mail, or invite a new one (a user with no password yet)."""
    _check_can_grant(actor_role=actor_role, role=role)
    existing = user_get_by_email(email)
    invited = existing is None
    if existing is None:
        user = user_create(email=email, password=None, actor=actor)
    elif Membership.objects.filter(tenant=tenant, user=existing).exists():
        raise AlreadyMember()
    else:
        user = existing
    membership = membership_create(tenant=tenant, user=user, role=role, actor=actor)
    if invited or not user.has_usable_password():
        transaction.on_commit(lambda: _send_invitation(user=user, tenant=tenant, invited_by=actor))
    return MemberAdded(membership=membership, invited=invited)


@transaction.atomic
def member_update(
    *, membership: Membership, actor: User, actor_role: str, role: str | None = None, is_active: bool | None = None
) -> Membership:
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("user", "tenant").get(pk=membership.pk)
    )
    changes: dict[str, Any] = {}
    if role is not None and role != membership.role:
        _check_can_manage(actor=actor, actor_role=actor_role, membership=membership)
        if membership.user_id == actor.pk:
            raise RoleNotAllowed("You cannot change your own role.")
        _check_can_grant(actor_role=actor_role, role=role)
        changes["role"] = [membership.role, role]
        membership.role = role
    if is_active is not None and is_active != membership.is_active:
        _check_can_manage(actor=actor, actor_role=actor_role, membership=membership)
        changes["is_active"] = [membership.is_active, is_active]
        membership.is_active = is_active
    if changes:
        membership.save(update_fields=["role", "is_active", "updated_at"])
        _membership_event("membership.changed", membership, actor, changes)
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: User, actor_role: str) -> None:
    """Remove a member (or leave, when the member is the actor). The owner cannot leave."""
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("user", "tenant").get(pk=membership.pk)
    )
    _check_can_manage(actor=actor, actor_role=actor_role, membership=membership)
    _membership_event("membership.removed", membership, actor, {"role": [membership.role, None]})
    membership.delete()


@transaction.atomic
def ownership_transfer(*, tenant: Tenant, to_membership_id, actor: User) -> Membership:
    """Make another active member the owner; the previous owner becomes an admin."""
    # Lock both rows in primary-key order so two concurrent transfers cannot deadlock.
    rows = list(
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "tenant")
        .filter(Q(role=Role.OWNER) | Q(pk=to_membership_id), tenant=tenant)
        .order_by("pk")
    )
    current = next(m for m in rows if m.role == Role.OWNER)
    target = next((m for m in rows if str(m.pk) == str(to_membership_id)), None)
    if target is None:
        raise MembershipNotFound("No such member in this tenant.")
    if current.user_id != actor.pk:
        raise RoleNotAllowed("Only the owner can transfer ownership.")
    if target.pk == current.pk:
        raise OwnerProtected("You already own this tenant.")
    if not target.is_active or not target.user.is_active:
        raise OwnerProtected("Ownership can only go to an active member.")
    # Demote first: the partial unique index allows one owner row at any moment.
    current.role = Role.ADMIN
    current.save(update_fields=["role", "updated_at"])
    previous_role = target.role
    target.role = Role.OWNER
    target.save(update_fields=["role", "updated_at"])
    _membership_event("membership.changed", current, actor, {"role": [Role.OWNER, Role.ADMIN]})
    _membership_event("tenant.ownership_transferred", target, actor, {"role": [previous_role, Role.OWNER]})
    return target


def _invited_user(*, tenant: Tenant, uid: str) -> User:
    """The member of `tenant` that an invitation link's `uid` names, or InvalidInvitation."""
    try:
        user = User.objects.filter(pk=force_str(urlsafe_base64_decode(uid))).first()
    except (ValueError, TypeError, UnicodeDecodeError, ValidationError):
        user = None
    if user is None or membership_role(tenant_id=tenant.pk, user_id=user.pk) is None:
        raise InvalidInvitation()
    return user


@transaction.atomic
def invitation_accept(*, tenant: Tenant, uid: str, token: str, password: str, full_name: str = "") -> User:
    """Set the invited member's password (the link's token proves the e-mail reached them)."""
    user = _invited_user(tenant=tenant, uid=uid)
    if not default_token_generator.check_token(user, token):
        raise InvalidInvitation()
    if full_name:
        user.full_name = full_name.strip()
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "full_name", "updated_at"])
    audit_record(action="user.invitation_accepted", target=user, actor=user, changes={"password": None}, platform=True)
    return user
