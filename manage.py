#!/usr/bin/env python
"""Django's command line.

With DATABASE_URL / REDIS_URL unset, commands use the embedded PostgreSQL and Redis of
`make run` / `make manage` (scripts/dev.py), whose URLs it records in the data folder
(`.devdata/services.json`, or under TESSERA_DATA_DIR). A database or Redis that cannot
be reached is reported in one line that says what to do, not with a traceback
(`--traceback` shows it).
"""

import json
import os
import sys
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
# Written by scripts/dev.py (STATE_FILE there).
STATE_FILE = Path(os.environ.get("TESSERA_DATA_DIR", ROOT / ".devdata")) / "services.json"


def embedded_services() -> dict:
    """The state scripts/dev.py recorded, once its URLs are in the environment; {} if none
    or if DATABASE_URL and REDIS_URL are both set (then they win)."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return {}
    try:
        state = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}
    if not os.environ.get("DATABASE_URL") and state.get("database_url"):
        os.environ["DATABASE_URL"] = state["database_url"]
    if not os.environ.get("REDIS_URL") and state.get("redis_url"):
        os.environ["REDIS_URL"] = state["redis_url"]
        os.environ.setdefault("CELERY_BROKER_URL", state.get("celery_broker_url", state["redis_url"]))
    return state


def put_psql_on_path() -> None:
    """dbshell runs `psql`: pgserver ships one matching the embedded server (dev only)."""
    spec = find_spec("pgserver")
    if spec and spec.origin:
        folder = Path(spec.origin).parent / "pginstall" / "bin"
        if folder.is_dir():
            os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def _running(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


def unreachable(error: Exception, state: dict) -> str | None:
    """One line for an error that means a server cannot be reached; None for any other."""
    from django.conf import settings
    from django.db import connections
    from django.db.utils import OperationalError

    embedded_down = bool(state) and not _running(state.get("pid"))
    fix_embedded = (
        f'the embedded servers of {STATE_FILE.parent} are not running: run the command as `make manage ARGS="..."` '
        "(it starts them for the command), or start `make run` first"
    )
    if isinstance(error, OperationalError) and connections["default"].connection is None:
        db = settings.DATABASES["default"]
        where = f"{db['NAME']} on {db['HOST'] or 'localhost'}{':' + str(db['PORT']) if db['PORT'] else ''}"
        if embedded_down and os.environ.get("DATABASE_URL") == state.get("database_url"):
            return f"Cannot reach the database: {fix_embedded}."
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fix = "is PostgreSQL running, and does the database exist? Or set DATABASE_URL."
        return f"Cannot reach the database {where} ({reason}): {fix}"
    redis_errors: tuple[type[Exception], ...] = ()
    try:
        from kombu.exceptions import OperationalError as BrokerError
        from redis.exceptions import ConnectionError as RedisConnectionError

        redis_errors = (RedisConnectionError, BrokerError)
    except ImportError:
        pass
    if redis_errors and isinstance(error, redis_errors):
        if embedded_down and os.environ.get("REDIS_URL") == state.get("redis_url"):
            return f"Cannot reach Redis: {fix_embedded}."
        address = urlsplit(settings.REDIS_URL)
        where = f"{address.hostname}:{address.port or 6379}"  # not the URL: it may hold a password
        return f"Cannot reach Redis at {where} ({error}): start Redis, or set REDIS_URL."
    return None


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    state = embedded_services()
    if "dbshell" in sys.argv[1:2]:
        put_psql_on_path()
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except Exception as error:
        line = None if "--traceback" in sys.argv else unreachable(error, state)
        if line is None:
            raise
        sys.stderr.write(line + "\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
