"""End to end, with real processes: gunicorn serving HTTP, a Celery worker on Redis.

Both run against this run's test database and committed session tenants (alpha, beta),
and are stopped by PID at the end of the module.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from tenants.tasks import for_each_active_tenant, tenant_usage_report
from testing.helpers import PASSWORD
from testing.processes import ROOT, child_env, free_port, stop

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
METRICS_TOKEN = "e2e-metrics-token-" + "m" * 32


@pytest.fixture(scope="module")
def process_env(platform) -> dict:
    """Environment for child processes: same settings, test database, cache prefix, queue."""
    # Their stderr is a pipe read only on failure: keep it from filling with access lines.
    return child_env(METRICS_TOKEN=METRICS_TOKEN, LOG_LEVEL="WARNING")


@pytest.fixture(scope="module")
def server(process_env):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            "config/gunicorn.py",  # the Dockerfile's
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=process_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield base
    stop(process)


def call(base: str, method: str, path: str, host: str, body=None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}{path}", method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Host", host)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_http_login_use_isolate_and_logout(server):
    status, pair = call(
        server, "POST", "/api/v1/auth/token/", "alpha.localhost", {"email": "admin@alpha.test", "password": PASSWORD}
    )
    assert status == 200 and pair["tenant"]["slug"] == "alpha"

    status, me = call(server, "GET", "/api/v1/me/", "alpha.localhost", token=pair["access"])
    assert status == 200 and me["role"] == "admin"
    status, members = call(server, "GET", "/api/v1/members/", "alpha.localhost", token=pair["access"])
    assert status == 200 and members["count"] == 5

    # The same token on beta's host, the public host, or an unknown host: never served.
    assert call(server, "GET", "/api/v1/members/", "beta.localhost", token=pair["access"])[0] == 401
    assert call(server, "GET", "/api/v1/me/", "localhost", token=pair["access"])[0] == 401
    assert call(server, "GET", "/api/v1/me/", "nope.localhost", token=pair["access"]) == (
        404,
        {"detail": "Unknown host.", "code": "tenant_not_found"},
    )

    assert (
        call(server, "POST", "/api/v1/auth/logout/", "alpha.localhost", {"refresh": pair["refresh"]}, pair["access"])[0]
        == 204
    )
    assert call(server, "GET", "/api/v1/me/", "alpha.localhost", token=pair["access"])[0] == 401


def test_http_answers_carry_security_headers_and_no_server_header(server):
    for host, path in (("127.0.0.1", "/healthz"), ("alpha.localhost", "/api/v1/me/"), ("nope.localhost", "/")):
        request = urllib.request.Request(f"{server}{path}", headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                headers = response.headers
        except urllib.error.HTTPError as error:
            headers = error.headers
        assert "Server" not in headers, (host, path)
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY", (host, path)
    status, body = call(server, "GET", "/api/v1/products/?search=" + "a" * 3000, "alpha.localhost")
    assert status == 414 and body["code"] == "uri_too_long"


def scrape(url: str, token: str | None = METRICS_TOKEN) -> str:
    request = urllib.request.Request(url, headers={"Host": "127.0.0.1"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def sample(body: str, line_start: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(line_start + " ")]
    return values[0] if values else 0.0


def test_metrics_of_every_gunicorn_worker_are_summed(server):
    with pytest.raises(urllib.error.HTTPError) as refused:
        scrape(f"{server}/metrics", token=None)
    assert refused.value.code == 401

    # Many connections, so both workers serve some; each scrape is answered by one of
    # them, and each must count them all.
    for _ in range(12):
        assert call(server, "GET", "/api/v1/warehouses/", "beta.localhost")[0] == 401
    series = 'tessera_http_requests_total{method="GET",plan="team",route="api/v1/warehouses/",status="401"}'
    scrapes = [scrape(f"{server}/metrics") for _ in range(6)]
    assert [sample(body, series) for body in scrapes] == [12.0] * 6
    # Multiprocess mode: the per-process collectors (process_*) are not exposed.
    assert all("process_cpu_seconds_total" not in body for body in scrapes)


@pytest.fixture(scope="module")
def worker(process_env):
    metrics_port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**process_env, "CELERY_METRICS_PORT": str(metrics_port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    process.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"  # type: ignore[attr-defined]
    yield process
    stop(process)


def test_worker_runs_each_task_in_its_own_schema_only(worker, platform):
    # One worker process runs them one after another on one connection, interleaved,
    # with a failure in between: no task may see a previous task's schema.
    results = [
        tenant_usage_report.delay(schema_name="alpha"),
        tenant_usage_report.delay(schema_name="no_such_schema"),
        tenant_usage_report.delay(schema_name="beta"),
        tenant_usage_report.delay(schema_name="alpha"),
    ]
    first = results[0].get(timeout=60)
    assert (first["schema"], first["tenant"], first["members"]) == ("alpha", "alpha", 5)
    with pytest.raises(Exception):  # noqa: B017 - any failure of the bad task is fine
        results[1].get(timeout=30)
    third = results[2].get(timeout=30)
    assert (third["schema"], third["tenant"], third["members"]) == ("beta", "beta", 5)
    assert results[3].get(timeout=30)["schema"] == "alpha"


def test_fan_out_sends_one_task_per_active_tenant(worker, platform):
    reports = [result.get(timeout=60) for result in for_each_active_tenant(tenant_usage_report)]
    assert sorted(report["tenant"] for report in reports) == ["alpha", "beta"]
    assert all(report["schema"] == report["tenant"] for report in reports)


def test_worker_serves_its_task_metrics(worker, platform):
    assert tenant_usage_report.delay(schema_name="alpha").get(timeout=60)["tenant"] == "alpha"
    with pytest.raises(Exception):  # noqa: B017 - any failure of the bad task is fine
        tenant_usage_report.delay(schema_name="no_such_schema").get(timeout=30)
    body = scrape(worker.metrics_url, token=None)  # the worker's port: not behind the load balancer
    task = 'task="tenants.tasks.tenant_usage_report"'
    assert sample(body, f'tessera_celery_tasks_total{{state="SUCCESS",{task}}}') >= 1
    assert sample(body, f'tessera_celery_tasks_total{{state="FAILURE",{task}}}') >= 1
    assert sample(body, f'tessera_celery_task_duration_seconds_count{{state="SUCCESS",{task}}}') >= 1
    assert sample(body, f'tessera_celery_task_failures_total{{exception="DoesNotExist",{task}}}') >= 1
