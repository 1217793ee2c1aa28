from core.errors import ApplicationError, Conflict, Forbidden, NotFound


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


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"


class OwnerProtected(Conflict):
    code = "owner_protected"
    default_message = "The owner cannot be removed, deactivated or demoted; transfer ownership first."


class InvalidRole(ApplicationError):
    code = "invalid_role"
    field = "role"
