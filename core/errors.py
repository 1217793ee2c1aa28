"""Application errors: what services (and views) raise when a rule refuses a request.

Each carries the HTTP status and the stable `code` that `core.exceptions` answers with,
so every refusal reads the same to API clients, whichever layer made it. Kept free of
DRF imports so that any module (models, services, middleware, commands) can raise them;
commands turn them into a one-line `CommandError` (see `core.commands`).

Subclass per rule in the app's `exceptions.py`, with its own `code`:

    class InsufficientStock(Conflict):
        code = "insufficient_stock"
"""

from http import HTTPStatus


class ApplicationError(Exception):
    """A rule refused the request. A 400 by default; `field` names the input at fault."""

    status_code: int = HTTPStatus.BAD_REQUEST
    code = "invalid"
    default_message = "The request was refused."
    field: str | None = None
    # Seconds the client should wait before trying again (a `Retry-After` header), if any.
    retry_after: int | None = None
    extra: dict = {}

    def __init__(self, message: str | None = None, *, field: str | None = None, **extra):
        self.message = message or self.default_message
        if field is not None:
            self.field = field
        # Machine-readable details beside detail and code, e.g. {"module": "documents"}.
        self.extra: dict = extra
        super().__init__(self.message)


class NotAuthenticated(ApplicationError):
    """401: credentials or a token were refused. The answer carries a Bearer challenge."""

    status_code: int = HTTPStatus.UNAUTHORIZED
    code = "not_authenticated"
    default_message = "Authentication credentials were not provided or are not valid."


class Forbidden(ApplicationError):
    status_code: int = HTTPStatus.FORBIDDEN
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class NotFound(ApplicationError):
    status_code: int = HTTPStatus.NOT_FOUND
    code = "not_found"
    default_message = "Not found."


class Conflict(ApplicationError):
    status_code: int = HTTPStatus.CONFLICT
    code = "conflict"


# Refusals of the request itself, before any rule: what Django, the parsers or the
# middleware refuse as unreadable or too large (see core.exceptions.error_for_django).


class BadRequest(ApplicationError):
    code = "bad_request"
    default_message = "The request could not be understood."


class TooManyFields(ApplicationError):
    code = "too_many_fields"
    default_message = "The request has too many fields or files."


class RequestTooLarge(ApplicationError):
    status_code: int = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "request_too_large"
    default_message = "The request body is too large."


class UriTooLong(ApplicationError):
    status_code: int = HTTPStatus.REQUEST_URI_TOO_LONG
    code = "uri_too_long"
    default_message = "The request URL is too long."


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    default_message = "CSRF verification failed."


class DatabaseUnavailable(ApplicationError):
    """503: PostgreSQL could not serve the request (connection lost, server restarting,
    statement or lock timeout). What the request wrote was rolled back (core.database),
    short of a connection lost during COMMIT itself; the client should retry later."""

    status_code: int = HTTPStatus.SERVICE_UNAVAILABLE
    code = "database_unavailable"
    default_message = "The database is unavailable. Retry shortly."
    retry_after = 5


class ModuleDisabled(Forbidden):
    """403: the endpoint belongs to a module the tenant's plan does not include."""

    code = "module_disabled"

    def __init__(self, module: str):
        super().__init__(f"The {module} module is not part of this tenant's plan.", module=module)
