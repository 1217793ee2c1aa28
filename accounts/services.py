"""Writes of users, memberships, invitations and password resets. Every function is one
transaction.

The role rules a user would expect live here, checked against the acting member's role:
nobody grants or touches a role above their own, the owner is never removed, deactivated
or demoted (ownership moves only by transfer), and a tenant always keeps its one owner.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record, security_event_record
from core.http import public_base_url
from core.quotas import quota_reserve
from core.roles import Role, rank

from .exceptions import (
    AlreadyInvited,
    AlreadyMember,
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    InvalidInvitation,
    InvalidPassword,
    InvalidResetToken,
    InvalidRole,
    InvitationNotFound,
    MembershipNotFound,
    OwnerProtected,
    RoleNotAllowed,
)
from .models import Invitation, Membership, PasswordResetToken, User, UserManager
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
    """A new user; `password=None` leaves it unusable until a password reset sets one.

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
    # The row, locked (request.user may be authentication's cached copy, with no hash).
    user.refresh_from_db(from_queryset=User.objects.select_for_update())
    if not user.check_password(current_password):
        raise InvalidPassword("Current password is incorrect.", field="current_password")
    _check_password(new_password, user)
    user.set_password(new_password)
    user.tokens_valid_after = timezone.now()
    tokens_revoke_all(user=user)
    user.save(update_fields=["password", "tokens_valid_after", "token_version", "updated_at"])
    PasswordResetToken.objects.filter(user=user).delete()  # asked for before: no longer wanted
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
            object_type="user",
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
    # What Django's own sign-in does (operators read it in the admin), for API sessions too.
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)
    audit_record(action="auth.login", target=user, actor=user, tenant=tenant, changes={"method": [None, method]})
    if tenant.is_public:
        return {**tokens, "tenant": None, "role": None}
    return {**tokens, "tenant": tenant, "role": membership_role(tenant_id=tenant.pk, user_id=user.pk)}


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
def membership_create(
    *, tenant: Tenant, user: User, role: str, actor: User | None = None, invited_by: User | None = None
) -> Membership:
    """`invited_by` defaults to the actor; an accepted invitation names its inviter."""
    membership = Membership.objects.create(tenant=tenant, user=user, role=role, invited_by=invited_by or actor)
    _membership_event("membership.added", membership, actor, {"role": [None, role]})
    return membership


def _secret_token() -> tuple[str, str]:
    """A random token to e-mail, and its SHA-256: all that is stored of it."""
    token = secrets.token_urlsafe(32)
    return token, _secret_hash(token)


def _secret_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_event(action: str, invitation: Invitation, actor: User | None, changes: dict) -> None:
    """Invitation events go to the tenant's own trail, whichever host made the change."""
    audit_record(
        action=action,
        target=invitation,
        actor=actor,
        tenant=invitation.tenant,
        changes={"email": [None, invitation.email], **changes},
    )


def _invitation_mail(*, invitation: Invitation, token: str, link_base: str) -> None:
    """One e-mail for everyone: it cannot say whether the address has an account."""
    tenant, inviter = invitation.tenant, invitation.invited_by
    by = f"{inviter.get_full_name()} ({inviter.email})" if inviter else "An administrator"
    send_mail(
        subject=f"You are invited to {tenant.name} on Tessera",
        message=(
            f"{by} invited you to join {tenant.name} on Tessera as {invitation.role}.\n\n"
            "New to Tessera? Choose a password to create your account and join:\n"
            f"  POST {link_base}/api/v1/auth/invitation/accept/\n"
            f'  {{"token": "{token}", "password": "<your new password>"}}\n\n'
            "Already have a Tessera account with this address? Sign in, then accept it:\n"
            f"  POST /api/v1/me/invitations/{invitation.id}/accept/  (or /decline/)\n\n"
            f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
            "If you did not expect it, ignore this e-mail.\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def _invitation_token_renew(invitation: Invitation) -> str:
    """Give the invitation a new token (returned, to e-mail) and a new expiry."""
    token, invitation.token_hash = _secret_token()
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation.sent_at + timedelta(days=settings.INVITATION_TTL_DAYS)
    return token


def _invitation_mail_on_commit(*, invitation: Invitation, token: str, link_base: str | None) -> None:
    base = link_base or public_base_url(invitation.tenant.primary_host)
    # After commit: a rolled-back invitation must reach nobody's mailbox.
    transaction.on_commit(lambda: _invitation_mail(invitation=invitation, token=token, link_base=base))


def _invitation_locked(invitation_id) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("tenant", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:  # answered or revoked meanwhile
        raise InvitationNotFound()
    return invitation


def _seats(tenant: Tenant) -> int:
    return (
        Membership.objects.filter(tenant=tenant, is_active=True).count()
        + Invitation.objects.filter(tenant=tenant).count()
    )


@transaction.atomic
def invitation_create(
    *, tenant: Tenant, email: str, role: str, actor: User, actor_role: str, link_base: str | None = None
) -> Invitation:
    """Invite an address to the tenant with a role; `link_base` is how the tenant's
    host is reached (from the request; PUBLIC_URL_SCHEME and PUBLIC_URL_PORT unless given).

    No account is looked up or created: the same queries run, the same answer comes back
    and the same e-mail goes out whether or not the address has an account. The person
    accepts signed in (an account of theirs) or by choosing a password (a new account).
    """
    _check_can_grant(actor_role=actor_role, role=role)
    email = _clean_email(email)
    # Admins see their members anyway: saying so tells them nothing about an account.
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise AlreadyMember("This address belongs to a member of the tenant already.")
    # An invitation holds a seat: members are the active ones plus those invited.
    quota_reserve("members", used=lambda: _seats(tenant), tenant=tenant)
    invitation = Invitation(tenant=tenant, email=email, role=role, invited_by=actor)
    token = _invitation_token_renew(invitation)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as exc:  # the (tenant, email) pair is pending already
        raise AlreadyInvited() from exc
    _invitation_event("invitation.created", invitation, actor, {"role": [None, role]})
    _invitation_mail_on_commit(invitation=invitation, token=token, link_base=link_base)
    return invitation


@transaction.atomic
def invitation_resend(
    *, invitation: Invitation, actor: User, actor_role: str, link_base: str | None = None
) -> Invitation:
    """E-mail the invitation again with a new token (the old link stops working) and a
    new expiry, expired or not."""
    invitation = _invitation_locked(invitation.pk)
    _check_can_grant(actor_role=actor_role, role=invitation.role)
    before = invitation.expires_at
    token = _invitation_token_renew(invitation)
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at", "updated_at"])
    _invitation_event("invitation.resent", invitation, actor, {"expires_at": [before, invitation.expires_at]})
    _invitation_mail_on_commit(invitation=invitation, token=token, link_base=link_base)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User, actor_role: str) -> None:
    invitation = _invitation_locked(invitation.pk)
    _check_can_grant(actor_role=actor_role, role=invitation.role)
    _invitation_event("invitation.revoked", invitation, actor, {"role": [invitation.role, None]})
    invitation.delete()


def _invitation_for(*, invitation_id, user: User) -> Invitation:
    """The user's pending, unexpired invitation, locked; InvitationNotFound otherwise."""
    invitation = _invitation_locked(invitation_id)
    if invitation.email != UserManager.normalize_email(user.email) or invitation.is_expired:
        raise InvitationNotFound()
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The signed-in invitee joins: the invitation becomes their membership."""
    invitation = _invitation_for(invitation_id=invitation.pk, user=user)
    if Membership.objects.filter(tenant=invitation.tenant, user=user).exists():
        raise AlreadyMember("You are a member of this tenant already.")
    membership = membership_create(
        tenant=invitation.tenant, user=user, role=invitation.role, actor=user, invited_by=invitation.invited_by
    )
    _invitation_event("invitation.accepted", invitation, user, {"role": [None, invitation.role]})
    invitation.delete()
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> None:
    invitation = _invitation_for(invitation_id=invitation.pk, user=user)
    _invitation_event("invitation.declined", invitation, user, {"role": [invitation.role, None]})
    invitation.delete()


@transaction.atomic
def invitation_accept_new_account(*, tenant: Tenant, token: str, password: str, full_name: str = "") -> User:
    """Redeem the e-mailed token on the tenant's host: the account is created now, with
    its membership; the token is used up.

    The token proves the mailbox, so its holder may learn that the address has an
    account already (409 `email_taken`): they then sign in and accept it from
    `/me/invitations/`, and the invitation stays pending.
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("tenant", "invited_by")
        .filter(tenant=tenant, token_hash=_secret_hash(token), expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        raise InvalidInvitation()
    if user_get_by_email(invitation.email) is not None:
        raise EmailTaken(
            "An account with this e-mail address exists: sign in and accept the invitation from /me/invitations/."
        )
    user = user_create(email=invitation.email, password=password, full_name=full_name, self_service=True)
    membership_create(
        tenant=invitation.tenant, user=user, role=invitation.role, actor=user, invited_by=invitation.invited_by
    )
    _invitation_event("invitation.accepted", invitation, user, {"role": [None, invitation.role]})
    invitation.delete()
    return user


def password_reset_request(*, email: str, link_base: str | None = None) -> None:
    """E-mail a single-use, expiring reset token to the active account with this
    address, if there is one; otherwise do nothing. Runs in a task
    (accounts.tasks.password_reset_send): the endpoint answers 202 before any of this,
    so neither its answer nor its timing says whether the account exists."""
    user = user_get_by_email(email)
    if user is not None and user.is_active:
        _password_reset_issue(user=user, link_base=link_base or public_base_url(settings.PUBLIC_DOMAIN))


@transaction.atomic
def _password_reset_issue(*, user: User, link_base: str) -> PasswordResetToken:
    token, token_hash = _secret_token()
    expires_at = timezone.now() + timedelta(minutes=settings.PASSWORD_RESET_TTL_MINUTES)
    reset = PasswordResetToken.objects.create(token_hash=token_hash, user=user, expires_at=expires_at)
    audit_record(
        action="user.password_reset_requested",
        target=user,
        changes={"expires_at": [None, expires_at]},
        platform=True,
    )
    transaction.on_commit(
        lambda: send_mail(
            subject="Reset your Tessera password",
            message=(
                "Someone, hopefully you, asked to reset the password of your Tessera account.\n\n"
                "Choose a new one (every session of the account then ends):\n"
                f"  POST {link_base}/api/v1/auth/password/reset/confirm/\n"
                f'  {{"token": "{token}", "password": "<your new password>"}}\n\n'
                f"The token works once, until {expires_at:%Y-%m-%d %H:%M} UTC. "
                "If you did not ask for it, ignore this e-mail: your password stays as it is.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    )
    return reset


@transaction.atomic
def password_reset_confirm(*, token: str, password: str) -> User:
    """Set the password of the token's account and end every session of it; the token
    and every other reset token of the account are used up."""
    reset = (
        PasswordResetToken.objects.select_for_update()
        .filter(token_hash=_secret_hash(token), expires_at__gt=timezone.now())
        .first()
    )
    user = User.objects.select_for_update().filter(pk=reset.user_id, is_active=True).first() if reset else None
    if user is None:
        raise InvalidResetToken()
    _check_password(password, user)
    user.set_password(password)
    user.tokens_valid_after = timezone.now()
    tokens_revoke_all(user=user)
    user.save(update_fields=["password", "tokens_valid_after", "token_version", "updated_at"])
    PasswordResetToken.objects.filter(user=user).delete()
    audit_record(action="user.password_reset", target=user, actor=user, changes={"password": None}, platform=True)
    return user


def password_reset_tokens_purge() -> int:
    """Delete expired reset tokens (daily cleanup); returns how many."""
    deleted, _ = PasswordResetToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


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


def admin_sign_in_record(*, user: User | None, email: str, succeeded: bool) -> None:
    """An operator's sign-in to the admin (Django's session login), in the platform log:
    `auth.login` on success, a `security.login_failed` event otherwise."""
    if succeeded and user is not None:
        audit_record(
            action="auth.login",
            object_type="user",
            object_id=str(user.pk),
            actor=user,
            changes={"method": [None, "admin"]},
            platform=True,
        )
    else:
        account = user_get_by_email(email) if email else None
        security_event_record(
            kind="login_failed", email=(email or "").strip(), user=account, details={"method": "admin"}
        )


def admin_sign_out_record(*, user: User) -> None:
    # `user` may be the request's lazy user: named by type and id, not as a target.
    audit_record(
        action="auth.logout",
        object_type="user",
        object_id=str(user.pk),
        actor=user,
        changes={"method": [None, "admin"]},
        platform=True,
    )


@transaction.atomic
def ownership_transfer(*, tenant: Tenant, to_membership_id, actor: User, operator: bool = False) -> Membership:
    """Make another active member the owner; the previous owner becomes an admin.

    The owner transfers from the API; a platform operator (`operator=True`, a staff
    user) from the admin, for a tenant whose owner cannot: also recorded in the platform log."""
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
    if current.user_id != actor.pk and not (operator and actor.is_staff):
        raise RoleNotAllowed("Only the owner can transfer ownership.")
    if target.pk == current.pk:
        raise OwnerProtected(
            f"{target.user.email} already owns this tenant." if operator else "You already own this tenant."
        )
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
    if operator:
        audit_record(
            action="tenant.ownership_transferred",
            target=target,
            actor=actor,
            tenant=tenant,
            platform=True,
            changes={"owner": [current.user.email, target.user.email]},
        )
    return target
