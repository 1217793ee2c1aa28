"""Django's 404 and 500 handlers, answering in the API's JSON error shape."""

from django.http import JsonResponse

from core.errors import NotFound
from core.exceptions import error_json_response


def not_found(request, exception=None):
    return error_json_response(NotFound())


def server_error(request):
    return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
