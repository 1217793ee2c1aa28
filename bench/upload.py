"""Benchmark: document upload throughput over real HTTP, and the worker's peak memory.

Prints figures; asserts nothing. A scratch database `tessera_bench_upload` (created and
dropped here) and a scratch media directory; one gunicorn worker (config/gunicorn.py)
on loopback; one tenant. For each size, BENCH_UPLOADS uploads of fresh random content
(no deduplication), then one of content already stored (deduplicated: hashed, not
written). Peak memory is the worker's high-water mark (VmHWM) after each size, in
increasing order: if an upload were read into memory, it would grow with the size.

    make bench ARGS=upload            BENCH_UPLOAD_SIZES_MIB=1,20,100 BENCH_UPLOADS=5
"""

import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set
from testing.processes import free_port  # noqa: E402

SIZES_MIB = [int(size) for size in os.environ.get("BENCH_UPLOAD_SIZES_MIB", "1,20,100").split(",")]
UPLOADS = int(os.environ.get("BENCH_UPLOADS", "5"))
DATABASE = "tessera_bench_upload"
PASSWORD = "bench-password-2026"


def multipart(content: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), boundary


def post(port: int, token: str, content: bytes) -> float:
    body, boundary = multipart(content)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {
        "Host": "bench.localhost",
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    started = time.perf_counter()
    connection.request("POST", "/api/v1/documents/", body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"upload answered {response.status}: {answer[:300]!r}")
    return elapsed


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    url = scratch_database_create(DATABASE)
    media = tempfile.mkdtemp(prefix="tessera-bench-media-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": url,
        "MEDIA_ROOT": media,
        "MAX_UPLOAD_BYTES": str((max(SIZES_MIB) + 1) * 1024 * 1024),
        "CACHE_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
    }
    python = sys.executable
    server = None
    try:
        subprocess.run([python, "manage.py", "migrate_schemas", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        provision = ["provision_tenant", "bench", "--name", "Bench", "--owner-email", "owner@bench.test"]
        subprocess.run(
            [python, "manage.py", *provision, "--owner-password", PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token/",
            data=json.dumps({"email": "owner@bench.test", "password": PASSWORD}).encode(),
            headers={"Host": "bench.localhost", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.load(response)["access"]
        (worker,) = psutil.Process(server.pid).children()
        post(port, token, secrets.token_bytes(1024))  # warm up: imports, connections
        print(f"machine: {os.cpu_count()} cores; one gunicorn sync worker; loopback; local filesystem storage")
        print(f"worker peak RSS after warm-up: {peak_rss_mib(worker.pid):.1f} MiB")
        print(f"{'size':>8} {'median':>10} {'throughput':>12} {'dedup upload':>13} {'worker peak RSS':>16}")
        for size in SIZES_MIB:
            content = b""
            times = []
            for _ in range(UPLOADS):
                content = secrets.token_bytes(size * 1024 * 1024)
                times.append(post(port, token, content))
            again = post(port, token, content)
            median = statistics.median(times)
            print(
                f"{size:>5} MiB {median * 1000:>8.0f} ms {size / median:>8.1f} MiB/s "
                f"{again * 1000:>10.0f} ms {peak_rss_mib(worker.pid):>12.1f} MiB"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(media, ignore_errors=True)
        scratch_database_drop(DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
