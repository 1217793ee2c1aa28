"""Real processes for end-to-end tests: gunicorn on a free loopback port, pointed at
this run's test database, cache prefix and media directory. Stopped by PID."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: same settings, this run's test database."""
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera"))
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"])),
        "TEST_RUN_ID": settings.TEST_RUN_ID,
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def gunicorn_start(env: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen, str]:
    """Start gunicorn with the Dockerfile's config and wait until it answers: (process,
    base URL). The caller stops it (`stop`), or signals it itself."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return process, base
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise RuntimeError(f"gunicorn did not start: {process.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.2)


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """Serve the project with the Dockerfile's gunicorn config; yields the base URL."""
    process, base = gunicorn_start(env, workers)
    try:
        yield base
    finally:
        stop(process)


def call_json(base: str, method: str, path: str, host: str, body=None, token: str | None = None) -> tuple[int, object]:
    """A JSON request to a server a test started, on `host`: (status, decoded body)."""
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Host", host)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
