"""Limits on the request line, checked before tenant routing.

Apart from `core.middleware` because that module is imported while logging is set up
(RequestIdLogFilter), before the apps are loaded, and this one renders through
`core.exceptions`, which needs them.
"""

from django.conf import settings

from core.errors import UriTooLong
from core.exceptions import error_json_response


class UriLengthMiddleware:
    """Refuse request targets (path and query string) longer than MAX_URI_LENGTH with
    `414 {"code": "uri_too_long"}`, before routing or any query.

    The HTTP server has a limit of its own on the whole request line (gunicorn: 4094
    bytes, answered 414 in HTML); ours is lower, so every URL that reaches the
    application is either served or refused in the API's shape.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_URI_LENGTH
        if len(request.get_full_path()) > limit:
            return error_json_response(UriTooLong(f"The request URL is longer than {limit} characters."))
        return self.get_response(request)
