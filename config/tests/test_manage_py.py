"""manage.py outside `make run`: the embedded servers' URLs found in the data folder, and
one line, not a traceback, when PostgreSQL or Redis cannot be reached.

Real `manage.py` processes; none of them reaches a server of the machine's (a database
that does not exist, a port nobody listens on, a socket folder with no server). The same
with a running `make run` is in test_dev_script.py.
"""

import json
import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from testing.processes import ROOT, free_port


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """No DATABASE_URL / REDIS_URL, as on a laptop, and a data folder of the test's own."""
    values = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    return {**values, "TESSERA_DATA_DIR": str(tmp_path)}


def test_manage_py_uses_the_urls_recorded_in_the_data_folder(env, tmp_path):
    (tmp_path / "services.json").write_text(
        json.dumps(
            {
                "pid": None,
                "database_url": f"postgresql://postgres:@/tessera?host={tmp_path / 'pg'}",
                "redis_url": "redis://127.0.0.1:6399/0",
                "celery_broker_url": "redis://127.0.0.1:6399/1",
            }
        )
    )
    code = (
        "from django.conf import settings; db = settings.DATABASES['default'];"
        "print(db['NAME'], db['HOST'], settings.REDIS_URL, settings.CELERY_BROKER_URL)"
    )
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    # The socket folder is the HOST, where dbshell's psql looks for it too.
    assert result.stdout.split()[-4:] == [
        "tessera",
        str(tmp_path / "pg"),
        "redis://127.0.0.1:6399/0",
        "redis://127.0.0.1:6399/1",
    ]


def test_manage_py_says_in_one_line_that_the_embedded_servers_are_down(env, tmp_path):
    (tmp_path / "services.json").write_text(
        json.dumps({"pid": None, "database_url": f"postgresql://postgres:@/tessera?host={tmp_path}"})
    )
    result = manage("list_tenants", env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Cannot reach the database: the embedded servers of {tmp_path} are not running: run the command as "
        '`make manage ARGS="..."` (it starts them for the command), or start `make run` first.'
    ]


def test_manage_py_names_a_missing_database_in_one_line(env):
    name = f"tessera_missing_{uuid.uuid4().hex[:8]}"
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera"))
    result = manage("list_tenants", env={**env, "DATABASE_URL": urlunsplit(server._replace(path=f"/{name}"))})
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Cannot reach the database {name} on ")
    assert f'database "{name}" does not exist' in line
    assert "Traceback" not in result.stderr


def test_manage_py_names_an_unreachable_redis_in_one_line(env):
    port = free_port()  # nobody listens there
    code = "from django.core.cache import caches; caches['throttle'].get('probe')"  # the cache that raises
    result = manage("shell", "-c", code, env={**env, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Cannot reach Redis at 127.0.0.1:{port} (Error 111 connecting to 127.0.0.1:{port}. Connection refused.): "
        "start Redis, or set REDIS_URL."
    ]


def test_manage_py_puts_pgservers_psql_first_for_dbshell(env):
    """dbshell finds a psql even on a machine with none (pgserver's, the embedded server's version)."""
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera")
    name = f"tessera_missing_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    result = manage("dbshell", "--", "-c", "SELECT 1", env={**env, "DATABASE_URL": url, "PATH": "/nonexistent"})
    # psql ran (and said the database does not exist), rather than Django not finding it.
    assert "not to have the 'psql' program installed" not in result.stderr
    assert f'database "{name}" does not exist' in result.stderr
