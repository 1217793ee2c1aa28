"""Links the API hands out (invitations, password resets, downloads) reach the host the
way the client reached the platform."""

import pytest
from django.test import RequestFactory

from core.http import base_url


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
