from core.errors import ApplicationError, Forbidden, RequestTooLarge


class FileTooLarge(RequestTooLarge):
    code = "file_too_large"
    field = "file"


class InvalidUpload(ApplicationError):
    """No file, an empty file, or more than one."""

    code = "invalid_upload"
    field = "file"


class LinkInvalid(Forbidden):
    """A download link that was forged or altered, or is another tenant's."""

    code = "invalid_signature"
    default_message = "The download link is not valid."


class LinkExpired(Forbidden):
    code = "link_expired"
    default_message = "The download link has expired; ask the API for a new one."
