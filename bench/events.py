"""Benchmark: events written and delivered per second, and the delay from a write's
commit to its webhook's arrival, against a receiver on 127.0.0.1.

Prints figures; asserts nothing. A scratch database `tessera_bench_events` (created and
dropped here), a real Celery worker (prefork, BENCH_EVENTS_CONCURRENCY processes) on a
queue of this run's own, and an HTTP receiver in this process.

- written/s: suppliers created one transaction each through the service (each records
  its event), in a tenant without webhooks, then in one with an active endpoint (the
  dispatch queue row and the kick after commit are the difference);
- delivered/s: from the first of BENCH_EVENTS_BURST writes (made as fast as possible)
  until the receiver has them all, for one endpoint (sent in order, one at a time) and
  for BENCH_EVENTS_TENANTS tenants' endpoints at once;
- commit to delivery: writes paced at BENCH_EVENTS_RATE per second; for each, the time
  from the service's return (committed) to its arrival at the receiver, p50 and p99.

    make bench ARGS=events        BENCH_EVENTS_BURST=500 BENCH_EVENTS_RATE=20
"""

import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set

BURST = int(os.environ.get("BENCH_EVENTS_BURST", "500"))
RATE = float(os.environ.get("BENCH_EVENTS_RATE", "20"))
PACED = int(os.environ.get("BENCH_EVENTS_PACED", "200"))
TENANTS = int(os.environ.get("BENCH_EVENTS_TENANTS", "4"))
CONCURRENCY = os.environ.get("BENCH_EVENTS_CONCURRENCY", "2")
DATABASE = "tessera_bench_events"
RUN = f"bench-{secrets.token_hex(4)}"
WORKER = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING"]


class Arrivals:
    """The receiver's record: when each event's resource id arrived, per path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.at: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def add(self, path: str, resource_id: str) -> None:
        with self.lock:
            self.at.setdefault(resource_id, time.perf_counter())
            self.count[path] = self.count.get(path, 0) + 1

    def wait(self, path: str, n: int, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.count.get(path, 0) >= n:
                    return time.perf_counter()
            time.sleep(0.005)
        raise RuntimeError(f"{path}: {self.count.get(path, 0)} of {n} deliveries arrived")


def receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrivals.add(self.path, json.loads(body)["data"]["id"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    url = scratch_database_create(DATABASE)
    media = tempfile.mkdtemp(prefix="tessera-bench-media-")
    os.environ.update(
        # The test settings: this run's own queue (TEST_RUN_ID) for the worker and us,
        # e-mail kept in memory, webhooks allowed to reach 127.0.0.1.
        DJANGO_SETTINGS_MODULE="config.settings.test",
        TEST_RUN_ID=RUN,
        DATABASE_URL=url,
        MEDIA_ROOT=media,
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from events.services import webhook_create
    from inventory.models import Supplier
    from inventory.services import catalogue_create
    from plans.services import tenant_plan_change
    from tenants.services import tenant_provision

    worker = None
    arrivals = Arrivals()
    server = receiver(arrivals)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        call_command("migrate_schemas", "--noinput", "-v", "0")

        def tenant(slug: str, hooked: bool):
            made = tenant_provision(slug=slug, name=slug, owner_email="owner@bench.test", owner_password="x" * 12)
            if hooked:
                tenant_plan_change(tenant=made.tenant, overrides={"modules": {"webhooks": True}})
                with tenant_context(made.tenant):
                    webhook_create(url=f"{base}/{slug}", event_types=["supplier.created"], actor=made.owner)
            return made.tenant

        owner = None

        def write(t, n: int) -> str:
            with tenant_context(t):
                return str(catalogue_create(model=Supplier, actor=owner, name=f"S{n}").pk)

        plain, hooked = tenant("plain", False), tenant("hooked", True)
        owner = User.objects.get(email="owner@bench.test")
        others = [tenant(f"hooked{n}", True) for n in range(1, TENANTS)]
        print(f"machine: {os.cpu_count()} cores; PostgreSQL, Redis and the receiver on loopback; worker x{CONCURRENCY}")

        worker = subprocess.Popen(
            [*WORKER, "--concurrency", CONCURRENCY, "-Q", f"test-{RUN}", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(3)  # the worker's start-up, not measured

        for label, t in (("without webhooks", plain), ("with an endpoint", hooked)):
            started = time.perf_counter()
            for n in range(BURST):
                write(t, n)
            elapsed = time.perf_counter() - started
            print(f"written: {BURST / elapsed:7.0f} events/s ({label}; one write, one transaction each)")
        end = arrivals.wait("/hooked", BURST)
        # The hooked burst above started deliveries at its first commit; time it afresh.
        started = time.perf_counter()
        for n in range(BURST):
            write(hooked, BURST + n)
        end = arrivals.wait("/hooked", 2 * BURST)
        print(f"delivered: {BURST / (end - started):5.0f} events/s (one endpoint, in order; {BURST} written at once)")

        everyone = [hooked, *others]
        threads = [threading.Thread(target=lambda t=t: [write(t, 10_000 + n) for n in range(BURST)]) for t in everyone]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        connections.close_all()
        end = max(arrivals.wait(f"/{t.slug}", BURST + (2 * BURST if t is hooked else 0)) for t in everyone)
        rate = len(everyone) * BURST / (end - started)
        print(f"delivered: {rate:5.0f} events/s ({len(everyone)} tenants' endpoints)")

        committed: dict[str, float] = {}
        for n in range(PACED):
            moment = time.perf_counter()
            committed[write(hooked, 20_000 + n)] = time.perf_counter()
            time.sleep(max(0.0, 1 / RATE - (time.perf_counter() - moment)))
        arrivals.wait("/hooked", 3 * BURST + PACED)
        delays = sorted((arrivals.at[key] - at) * 1000 for key, at in committed.items())
        print(
            f"commit to delivery: p50 {statistics.median(delays):.1f} ms, p99 {delays[int(len(delays) * 0.99)]:.1f} ms "
            f"({PACED} writes at {RATE:.0f}/s)"
        )
    finally:
        if worker is not None:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
        server.shutdown()
        from django.db import connections

        connections.close_all()
        shutil.rmtree(media, ignore_errors=True)
        scratch_database_drop(DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
