"""Structured logs: one access line per request with its fields, JSON when asked for,
and never a token, password or secret value, whatever reaches a logger."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from core.logs import REDACTED, JsonFormatter, RedactSecretsFilter, redact
from testing.helpers import PASSWORD, host_of

# A well-formed but unsigned JWT, for the unit tests.
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiNDIifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def _configured_console() -> logging.Handler:
    """The root handler that settings.LOGGING made: what production writes through."""
    return next(handler for handler in logging.getLogger().handlers if handler.name == "console")


@contextmanager
def captured_logs(debug_sql: bool = True):
    """Everything logged, at DEBUG, through the configured console handler's own filters
    and the JSON formatter. With `debug_sql`, Django also logs every SQL statement with
    its parameters, which include the refresh tokens simplejwt stores."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    for log_filter in _configured_console().filters:
        handler.addFilter(log_filter)
    root, sql = logging.getLogger(), logging.getLogger("django.db.backends")
    levels = (root.level, sql.level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql.setLevel(logging.DEBUG if debug_sql else sql.level)
    connection.force_debug_cursor = debug_sql
    try:
        yield buffer
    finally:
        connection.force_debug_cursor = False
        root.removeHandler(handler)
        root.setLevel(levels[0])
        sql.setLevel(levels[1])


def test_every_configured_handler_redacts():
    assert any(isinstance(f, RedactSecretsFilter) for f in _configured_console().filters)
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_secrets" in handler.get("filters", []), name


@pytest.mark.django_db
def test_no_issued_token_or_password_reaches_the_logs(tenant_a):
    client = APIClient(HTTP_HOST=host_of(tenant_a))
    with captured_logs() as output:
        first = client.post("/api/v1/auth/token/", {"email": "admin@alpha.test", "password": PASSWORD}).json()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
        assert client.get("/api/v1/me/").status_code == 200
        second = client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}).json()
        # Reusing a rotated refresh token: refused, and recorded as a security event.
        assert client.post("/api/v1/auth/token/refresh/", {"refresh": first["refresh"]}).status_code == 401
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {second['access']}")
        assert client.get(f"/api/v1/members/?token={second['access']}&password={PASSWORD}").status_code == 200
        assert client.post("/api/v1/auth/logout/", {"refresh": second["refresh"]}).status_code == 204
        # A careless line, as a library or a future change might write one.
        logging.getLogger("tessera.careless").debug(
            "retrying %s with headers %s", f"/x?token={second['refresh']}", {"HTTP_AUTHORIZATION": second["access"]}
        )
    logged = output.getvalue()

    issued = [first["access"], first["refresh"], second["access"], second["refresh"]]
    assert all(token.count(".") == 2 for token in issued)
    for secret in [*issued, PASSWORD]:
        assert secret not in logged
        # Nor any of a token's three parts (the signature alone is enough to forge nothing,
        # but the payload names the user and session).
        assert not any(len(part) > 16 and part in logged for part in secret.split(".")[1:])
    # No JWT of any kind: simplejwt's INSERT of its outstanding-token row, logged here
    # with its parameters, carries one too.
    assert not re.search(r"eyJ[\w-]+\.[\w-]+", logged)
    # What was captured is the real thing: access lines, SQL with parameters, the careless line.
    assert '"logger": "tessera.access"' in logged
    assert "token_blacklist_outstandingtoken" in logged
    assert "retrying /x?token=[redacted]" in logged


@pytest.mark.django_db
def test_access_log_is_one_json_line_per_request_with_its_fields(api_client_for, tenant_a):
    client = api_client_for(tenant_a, "member")
    with captured_logs(debug_sql=False) as output:
        response = client.get("/api/v1/products/", HTTP_X_REQUEST_ID="req-42")
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "tessera.access"]
    assert len(access) == 1
    entry = access[0]
    assert response["X-Request-ID"] == "req-42"
    assert entry["request_id"] == "req-42"
    assert entry["tenant"] == tenant_a.schema_name
    assert entry["user_id"] == str(client.user.pk)
    assert (entry["route"], entry["method"], entry["status"]) == ("api/v1/products/", "GET", 200)
    assert entry["duration_ms"] > 0 and entry["queries"] > 0
    assert entry["level"] == "INFO" and entry["ts"].endswith("+00:00")


@pytest.mark.django_db
def test_access_log_of_an_unknown_host_has_no_tenant_or_user(platform):
    with captured_logs(debug_sql=False) as output:
        APIClient(HTTP_HOST="nope.localhost").get("/api/v1/products/?sig=abc")
    entry = next(json.loads(line) for line in output.getvalue().splitlines() if "tessera.access" in line)
    assert (entry["tenant"], entry["user_id"], entry["route"], entry["status"]) == (None, None, "unmatched", 404)
    assert "sig" not in output.getvalue()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"Authorization: Bearer {JWT}", "Authorization: Bearer"),
        (f"token {JWT} rejected", "token"),
        ("GET /download/?sig=abc123&expires=99&page=2", "expires=99&page=2"),
        ("/reset/?token=t0k3n&next=/home", "next=/home"),
        ("/api/v1/documents/1/content/?expires=99&signature=abc123", "expires=99"),
        ("https://s3.example/b/k?X-Amz-Credential=k3y&X-Amz-Signature=abc123", "X-Amz-Signature="),
        ('{"email": "a@b.c", "password": "hunter2hunter2", "role": "admin"}', '"role": "admin"'),
        ("{'new_password': 'hunter2hunter2', 'x': 1}", "'x': 1"),
        ("client_secret=s3cr3t api_key=k3y", "client_secret="),
        ("Authorization: Basic dXNlcjpwYXNz", "Basic"),
    ],
)
def test_redact_removes_secret_values_and_keeps_the_rest(text, kept):
    cleaned = redact(text)
    for secret in (JWT, "abc123", "t0k3n", "hunter2hunter2", "s3cr3t", "k3y", "dXNlcjpwYXNz"):
        assert secret not in cleaned
    assert kept in cleaned and REDACTED in cleaned


def test_redact_filter_covers_extras_and_tracebacks():
    logger = logging.getLogger("tessera.test.redact")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecretsFilter())
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            logger.error(
                "failed for %s",
                "alice",
                exc_info=True,
                extra={"password": "hunter2hunter2", "headers": {"Authorization": "x"}, "params": [JWT, 3]},
            )
    finally:
        logger.removeHandler(handler)
    entry = json.loads(buffer.getvalue())
    assert entry["message"] == "failed for alice"
    assert entry["password"] == REDACTED and entry["headers"] == {"Authorization": REDACTED}
    assert entry["params"] == [REDACTED, 3]
    assert "ValueError: bad token [redacted]" in entry["exc"] and JWT not in buffer.getvalue()


def test_json_formatter_leaves_out_objects_it_cannot_render_safely(rf):
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/x",), None)
    record.request = rf.get("/x?token=abc")  # Django's own loggers attach the request
    record.status_code = 404
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "Not Found: /x" and entry["status_code"] == 404
    assert "request" not in entry


def _settings_in(module: str, **env) -> subprocess.CompletedProcess:
    code = (
        "import django; from django.conf import settings as s; django.setup(); "
        "print(s.LOG_FORMAT, s.LOGGING['handlers']['console']['formatter'])"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": module, "SECRET_KEY": "x" * 50, **env}
    environment.pop("LOG_FORMAT", None)
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)


def test_log_format_is_json_in_production_and_plain_elsewhere():
    assert _settings_in("config.settings.production").stdout.split() == ["json", "json"]
    assert _settings_in("config.settings.production", LOG_FORMAT="plain").stdout.split() == ["plain", "plain"]
    assert _settings_in("config.settings.local").stdout.split() == ["plain", "plain"]
    refused = _settings_in("config.settings.local", LOG_FORMAT="xml")
    assert refused.returncode != 0 and "LOG_FORMAT" in refused.stderr


def test_production_refuses_a_short_metrics_token():
    refused = _settings_in("config.settings.production", METRICS_TOKEN="short")
    assert refused.returncode != 0 and "METRICS_TOKEN" in refused.stderr
    assert _settings_in("config.settings.production", METRICS_TOKEN="m" * 40).returncode == 0


def _writes(record: logging.LogRecord) -> int:
    """How many of the configured handlers write `record` (pytest's own capture is not
    one), walking from its logger up the hierarchy as logging does."""
    count, logger = 0, logging.getLogger(record.name)
    while logger is not None:
        count += sum(
            1
            for handler in logger.handlers
            if not type(handler).__module__.startswith("_pytest")
            and record.levelno >= handler.level
            and handler.filter(record)
        )
        logger = logger.parent if logger.propagate else None
    return count


@pytest.mark.django_db
def test_a_refused_request_is_logged_once(api_client_for, tenant_a, caplog, settings):
    """A 4xx used to come out three times: the access line, Django's "Not Found: ..."
    through the root handler, and the same again through Django's own console handler
    (DEBUG on, as in `make run`). Now one line per request, whatever its status."""
    settings.DEBUG = True
    anonymous, viewer = APIClient(HTTP_HOST=host_of(tenant_a)), api_client_for(tenant_a, role="viewer")
    refused = [
        (anonymous, "get", "/api/v1/products/", 401),
        (viewer, "get", "/api/v1/audit-events/", 403),
        (viewer, "get", "/api/v1/products/?is_active=maybe", 400),
        (viewer, "get", f"/api/v1/products/{'0' * 8}-0000-0000-0000-{'0' * 12}/", 404),
        (viewer, "get", "/api/v1/no-such-thing/", 404),
        (viewer, "delete", "/api/v1/stock-movements/", 405),
    ]
    for client, method, path, status in refused:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            assert getattr(client, method)(path).status_code == status
        written = [(r.name, r.getMessage()) for r in caplog.records for _ in range(_writes(r))]
        assert len(written) == 1, written
        assert written[0][0] == "tessera.access" and f" {status} " in written[0][1]
