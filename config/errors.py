"""Domain errors: what services raise when a business rule refuses a request.

Each carries the HTTP status and stable `code` that `config.exceptions` answers with.
Kept free of DRF imports so that any module (authentication included) can use them.
"""

from http import HTTPStatus


class DomainError(Exception):
    """A business rule refused the request. Subclass per rule, with its own code."""

    status_code: int = HTTPStatus.BAD_REQUEST
    code = "invalid"
    default_message = "The request was refused."
    field: str | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None):
        self.message = message or self.default_message
        if field is not None:
            self.field = field
        super().__init__(self.message)


class Conflict(DomainError):
    status_code: int = HTTPStatus.CONFLICT
    code = "conflict"


class NotFound(DomainError):
    status_code: int = HTTPStatus.NOT_FOUND
    code = "not_found"
    default_message = "Not found."


class Forbidden(DomainError):
    status_code: int = HTTPStatus.FORBIDDEN
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."
