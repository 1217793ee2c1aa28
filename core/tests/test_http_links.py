"""Links the API hands out (invitations, password resets, downloads) reach the host the
way the client reached the platform."""

import pytest
from django.test import RequestFactory

from core.http import base_url, public_base_url


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"HTTP_HOST": "localhost:8000"}, "http://acme.localhost:8000"),
        ({"HTTP_HOST": "acme.localhost", "SERVER_PORT": "8000"}, "http://acme.localhost:8000"),
        ({"HTTP_HOST": "acme.localhost", "SERVER_PORT": "80"}, "http://acme.localhost"),
        # Behind a TLS proxy: the server's own port (gunicorn's) means nothing to the client.
        ({"HTTP_HOST": "acme.localhost", "SERVER_PORT": "8000", "wsgi.url_scheme": "https"}, "https://acme.localhost"),
        ({"HTTP_HOST": "acme.localhost:8443", "wsgi.url_scheme": "https"}, "https://acme.localhost:8443"),
    ],
)
def test_base_url_keeps_the_scheme_and_the_port_the_client_used(settings, meta, expected):
    settings.ALLOWED_HOSTS = ["*"]
    request = RequestFactory().get("/", **meta)
    assert base_url(request, "acme.localhost") == expected


@pytest.mark.parametrize(
    ("scheme", "port", "expected"),
    [
        ("http", 8000, "http://acme.localhost:8000"),
        ("http", 80, "http://acme.localhost"),
        ("https", None, "https://acme.localhost"),
        ("https", 443, "https://acme.localhost"),
        ("https", 8443, "https://acme.localhost:8443"),
    ],
)
def test_public_base_url_follows_the_settings_where_no_request_tells(settings, scheme, port, expected):
    settings.PUBLIC_URL_SCHEME, settings.PUBLIC_URL_PORT = scheme, port
    assert public_base_url("acme.localhost") == expected
