from django.http import JsonResponse


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
