"""What accounts' services refuse, each with its stable code (see core.errors)."""

from core.errors import ApplicationError, Conflict, Forbidden, NotAuthenticated, NotFound


class InvalidCredentials(NotAuthenticated):
    """One answer for every failed sign-in, so logins cannot probe who belongs where."""

    code = "invalid_credentials"
    default_message = "No active account found with the given credentials."


class InvalidToken(NotAuthenticated):
    code = "token_not_valid"
    default_message = "Token is invalid or expired."


class TokenWrongTenant(InvalidToken):
    code = "token_wrong_tenant"
    default_message = "Token was not issued for this host."


class TokenRevoked(InvalidToken):
    code = "token_revoked"
    default_message = "Token has been revoked."


class MembershipInactive(InvalidToken):
    code = "membership_inactive"
    default_message = "No active membership in this tenant."


class TokenReused(InvalidToken):
    """A refresh token presented again after rotation or logout: maybe stolen."""

    default_message = "Token is blacklisted."

    def __init__(self, *, jti: str, user_id):
        super().__init__()
        self.jti, self.user_id = jti, user_id


class InvalidInvitation(ApplicationError):
    code = "invalid_invitation"
    field = "token"
    default_message = "This invitation is invalid, has expired or has already been answered."


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    default_message = "No such pending invitation."


class AlreadyInvited(Conflict):
    code = "already_invited"
    default_message = "An invitation to this address is already pending; resend it instead."


class InvalidResetToken(ApplicationError):
    code = "invalid_reset_token"
    field = "token"
    default_message = "This password-reset token is invalid, has expired or has already been used."


class InvalidPassword(ApplicationError):
    code = "invalid_password"
    field = "password"


class InvalidEmail(ApplicationError):
    code = "invalid_email"
    field = "email"


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = "A user with this e-mail address already exists."


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = "This user is already a member of the tenant."


class MembershipNotFound(NotFound):
    code = "membership_not_found"
    default_message = "You have no active membership in that tenant."


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"


class OwnerProtected(Conflict):
    code = "owner_protected"
    default_message = "The owner cannot be removed, deactivated or demoted; transfer ownership first."


class InvalidRole(ApplicationError):
    code = "invalid_role"
    field = "role"
