"""Fuzz the live tenant API from its own OpenAPI schema with schemathesis (`make fuzz`).

A scratch database (`tessera_fuzz`, dropped afterwards) is migrated and seeded with the
demo tenants; gunicorn serves it on a free port of 127.0.0.1; schemathesis then runs
every check it has (all are on by default; a `--checks` option would override the
per-operation settings below) against `acme.localhost`, once with an admin token and once with a
viewer token, bounded by examples per operation and by time, with a fixed seed.

Excluded, because they end the fuzzer's own access rather than test anything:
`POST /auth/logout/` (ends the session), and `PATCH`/`DELETE /members/{id}/` (the admin
may deactivate or remove its own membership). Everything else is fuzzed.

Exit status: schemathesis' (non-zero on any failure).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "tessera_fuzz"
HOST = "acme.localhost"
PASSWORD = "tessera-demo-2026"  # seed_demo's
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "25")
SEED = os.environ.get("FUZZ_SEED", "20261203")
MAX_TIME = os.environ.get("FUZZ_MAX_SECONDS", "120")  # per role
EXCLUDED = ["auth_logout_create", "members_partial_update", "members_destroy"]  # operation ids
# schemathesis' defaults, plus 422 (an answer that, like a 409, depends on the requests
# before it rather than on this request's shape).
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

# A schema-violating request may also be refused for its length: 414 (over 2048).
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "5xx"]

# Where schema-valid is not enough to be accepted, and the 400 names the field: a body
# that names objects by id (which must exist in this tenant), a movement kind's
# warehouses (receipt needs to_warehouse...), a password or an e-mailed token that
# must be the right one, a webhook URL (https, and a public address when resolved: no
# schema says that) and the event a redelivery names. These may answer 400 to schema-valid data; every other check
# still runs on them, and every other operation must accept what its schema allows.
[[operations]]
include-operation-id = [
    "auth_invitation_accept_create",
    "me_password_create",
    "purchase_requests_create",
    "purchase_requests_partial_update",
    "purchase_requests_receive_create",
    "stock_movements_create",
    "webhooks_create",
    "webhooks_partial_update",
    "webhooks_redeliver_create",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]

# The upload's own negative cases (no file, empty, two files, long title, bad tags) are
# tested in documents/tests. schemathesis' multipart encoder sends some of the values
# it means to violate the schema as valid text (a title drawn with a NUL arrives as
# "*"), so its negative check on this one operation reports what the server rightly
# accepted. Every other check still runs on it.
[[operations]]
include-operation-id = ["documents_create"]
checks.negative_data_rejection.enabled = false
"""


def _without_idempotency_keys(schema: Path) -> None:
    """Drop the optional Idempotency-Key header from the schema the fuzzer reads. Drawn
    at random, the same key comes back with the same body, and the API rightly replays
    the first answer: a resource created (and since deleted) by an earlier case, which
    the stateful phase then reports as "created resource not found". Keys are tested
    in core/tests/test_idempotency.py."""
    document = json.loads(schema.read_text())
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"] if p.get("name") != "Idempotency-Key"]
    schema.write_text(json.dumps(document))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scratch_database() -> str:
    url = urlsplit(os.environ["DATABASE_URL"])
    admin = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return urlunsplit(url._replace(path=f"/{DATABASE}"))


def _drop_database() -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _token(base: str, email: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Host": HOST, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["access"]


def _wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def main() -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",  # every 4xx the fuzzer provokes would be a warning line
        # Its own cache keys: routing cached by an earlier run's scratch database (other
        # tenant ids) must not answer for this one.
        "CACHE_KEY_PREFIX": f"fuzz-{uuid.uuid4().hex[:8]}",
        "DATABASE_URL": _scratch_database(),
        # Uploaded documents go to a scratch directory too, removed with the database.
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="tessera-fuzz-media-"),
        # The fuzzer signs in and refreshes far more often than a person; the
        # throttles' own behaviour is tested in the suite.
        **{f"THROTTLE_{scope}": "1000000/min" for scope in ("LOGIN_ACCOUNT", "LOGIN_IP", "AUTH", "REGISTER")},
        # Likewise the per-tenant API rate and the quotas of a plan (each tested in the
        # suite): the demo tenants get the plan with every module and the fewest limits.
        "TENANT_API_RATE_LIMIT": "false",
        "DEFAULT_PLAN": "business",
    }
    python = sys.executable
    schema = ROOT / ".devdata" / "fuzz-schema.json"
    schema.parent.mkdir(exist_ok=True)
    config = schema.with_name("fuzz-schemathesis.toml")
    config.write_text(CONFIG)
    for step in (
        ["migrate_schemas", "--noinput", "-v", "0"],
        ["seed_demo"],
        ["spectacular", "--urlconf", "config.urls_tenant", "--format", "openapi-json", "--file", str(schema)],
    ):
        subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    _without_idempotency_keys(schema)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
    )
    worst = 0
    try:
        _wait_ready(base, server)
        for email in ("admin@acme.test", "viewer@acme.test"):
            print(f"== schemathesis as {email} on {HOST} (seed {SEED}, {EXAMPLES} examples per operation)", flush=True)
            command = [
                os.path.join(os.path.dirname(python), "st"),
                "--config-file",
                str(config),
                "run",
                str(schema),
                "--url",
                base,
                "-H",
                f"Host: {HOST}",
                "-H",
                f"Authorization: Bearer {_token(base, email)}",
                "--max-examples",
                EXAMPLES,
                "--seed",
                SEED,
                "--max-time",
                MAX_TIME,
                # One worker: with two threads, hypothesis' lambda-source parsing trips
                # CPython 3.11's "AST constructor recursion depth mismatch" (not thread-safe).
                "--workers",
                "1",
                "--no-color",
            ]
            for operation_id in EXCLUDED:
                command += ["--exclude-operation-id", operation_id]
            worst = max(worst, subprocess.call(command, cwd=ROOT, env=env))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        _drop_database()
        shutil.rmtree(env["MEDIA_ROOT"], ignore_errors=True)
    return worst


if __name__ == "__main__":
    sys.exit(main())
