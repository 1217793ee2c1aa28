"""What every interface needs to know about the HTTP request it serves."""

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as NUM_PROXIES says."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def base_url(request, host: str) -> str:
    """`host`'s base URL as this client reaches the platform (its scheme and port kept),
    e.g. http://acme.localhost:8000 for a client of http://localhost:8000.

    The port is the one the client named in its Host header. Without one: none over
    HTTPS (behind a TLS proxy the server's own port means nothing to the client), and
    over plain HTTP the server's port, so `curl http://127.0.0.1:8000 -H 'Host:
    acme.localhost'` in development gets links it can follow.
    """
    named = request.get_host().rpartition(":")[2] if ":" in request.get_host() else ""
    port = named or ("443" if request.is_secure() else request.get_port())
    default = "443" if request.is_secure() else "80"
    return f"{request.scheme}://{host}" + ("" if port == default else f":{port}")


def public_base_url(host: str) -> str:
    """`host`'s base URL where no request tells how clients reach the platform: in
    e-mails sent by commands, tasks and the admin, and in commands' output. Scheme and
    port come from PUBLIC_URL_SCHEME and PUBLIC_URL_PORT (http and 8000 in development;
    https and none in production), e.g. http://acme.localhost:8000.
    """
    scheme = settings.PUBLIC_URL_SCHEME
    port = settings.PUBLIC_URL_PORT
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port in (None, default) else f":{port}")
