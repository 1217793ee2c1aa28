"""Graceful shutdown on SIGTERM, as a deploy or a scale-in sends it: gunicorn finishes
the request it is serving, the Celery worker the task it is running, and both exit 0.

Real processes: gunicorn with config/gunicorn.py, a Celery worker on this run's queue
running a task of the tests' own (testing.slow_task). Only the main process is
signalled, as Docker (with `init: true`) and Kubernetes do.
"""

import json
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from testing.processes import ROOT, child_env, gunicorn_start
from testing.processes import stop as stop_process
from testing.slow_task import slow_touch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def wait_for(condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_worker_finishes_its_running_task_on_sigterm_then_exits(tmp_path):
    started, done = tmp_path / "started", tmp_path / "done"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--loglevel=WARNING",
        "-I",
        "testing.slow_task",
    ]
    command += ["-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle"]
    worker = subprocess.Popen(
        [*command, "--pool=prefork", "--concurrency=1"],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        slow_touch.apply_async(kwargs={"started": str(started), "done": str(done), "seconds": 2}, ignore_result=True)
        wait_for(started.exists)
        worker.send_signal(signal.SIGTERM)  # warm shutdown: take nothing new, finish what runs
        assert worker.wait(timeout=20) == 0
        assert done.read_text() == "done"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_gunicorn_answers_an_in_flight_request_in_full_on_sigterm():
    server, base = gunicorn_start(child_env(LOG_LEVEL="CRITICAL"))
    try:
        body = json.dumps({"email": "nobody@shutdown.test", "password": "not-the-password"}).encode()
        head = (
            f"POST /api/v1/auth/token/ HTTP/1.1\r\nHost: {settings.PUBLIC_DOMAIN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        port = urlsplit(base).port
        with socket.create_connection(("127.0.0.1", port), timeout=15) as client:
            # Accepted and half-read by a worker when the signal comes; the rest follows it.
            client.sendall(head + body[:10])
            time.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            time.sleep(1)
            client.sendall(body[10:])
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        payload = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert status_line.split()[1] in (b"400", b"401"), answer[:300]
        assert payload["code"]  # the application's own complete JSON answer
        assert server.wait(timeout=20) == 0
        with pytest.raises(ConnectionRefusedError):  # and it took nothing new meanwhile
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        stop_process(server)
