"""Benchmark: requests per second of the product list of 50, side by side.

Prints figures; asserts nothing. Each configuration is the same code under gunicorn
(config/gunicorn.py, 2 sync workers, production settings, DEBUG off) on a scratch
database `tessera_bench_requests`, loaded by wrk (-t2 -c16) from this machine; the
configurations take turns, BENCH_ROUNDS rounds of BENCH_SECONDS seconds each, and the
median of the rounds is printed.

- tessera: the authenticated list (JWT, membership, per-tenant throttle, plan, on_hand)
  on one tenant;
- stock: the same list with Django's stock backend, no routing, no authentication
  (bench/baseline/settings_stock.py);
- routed: plain django-tenants routing, no authentication (settings_routed.py);
- spread: tessera, each request for a random one of BENCH_SPREAD_TENANTS tenants, each
  tenant its own owner and token, after BENCH_SPREAD_WARM seconds (40) of the same
  traffic, so that the workers have met the tenants as a long-running server has;
- pgbouncer: tessera through Debian's pgbouncer in session pooling (skipped when
  pgbouncer is not installed).

It also records the private memory (RssAnon) of the gunicorn workers and of the
PostgreSQL backends serving them after the one-tenant rounds and after each spread
round: a process-level cache growing per tenant would show as growth from one spread
round to the next.

    make bench ARGS=request_path                    BENCH_SPREAD_TENANTS=1000 BENCH_ROUNDS=3
    BENCH_PROFILE=1 make bench ARGS=request_path    # also cProfile's top items: one tenant, then
                                                    # spread (its warm-up left out)
"""

import json
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.databases import scratch_database_create, scratch_database_drop  # noqa: E402 - after the path is set
from testing.processes import free_port  # noqa: E402

DATABASE = "tessera_bench_requests"
SPREAD = int(os.environ.get("BENCH_SPREAD_TENANTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SPREAD_WARM = int(os.environ.get("BENCH_SPREAD_WARM", "40"))
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
KEEP = os.environ.get("BENCH_KEEP", "") not in ("", "0")  # keep the database and files, to look into
PATH = "/api/v1/products/"
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def base_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "false",
        "JWT_ACCESS_MINUTES": "600",
        "PYTHONPATH": str(ROOT),
    }


def rss_anon_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


class Server:
    """gunicorn with 2 workers on a free port, started and answering."""

    def __init__(self, env: dict[str, str], app: str = "config.wsgi:application"):
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", app, "--config", "config/gunicorn.py"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", "2"]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - open while the server runs
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError(f"gunicorn did not start ({app}):\n{self.log.read().decode()[-3000:]}") from None
                time.sleep(0.2)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=40)


def wrk(port: int, seconds: int, script: Path) -> float:
    """Requests per second answered 200 (wrk's figure, checked against its non-2xx count)."""
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failures:\n{out}")
    return float(next(line for line in out.splitlines() if line.startswith("Requests/sec:")).split()[1])


def lua_script(folder: Path, name: str, pairs: list[dict]) -> Path:
    """A wrk script sending each request with a random (host, token) of `pairs`."""
    rows = ",\n".join(f'{{"{p["host"]}", "{p.get("token", "")}"}}' for p in pairs)
    path = folder / f"{name}.lua"
    path.write_text(
        f"local pairs = {{\n{rows}\n}}\n"
        "math.randomseed(os.time())\n"
        "request = function()\n"
        "  local pair = pairs[math.random(#pairs)]\n"
        '  wrk.headers["Host"] = pair[1]\n'
        '  if pair[2] ~= "" then wrk.headers["Authorization"] = "Bearer " .. pair[2] end\n'
        "  return wrk.format(nil)\n"
        "end\n"
    )
    return path


def backends_kib(database_url: str) -> list[int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()",
            [DATABASE],
        ).fetchall()
    return [rss_anon_kib(pid) for (pid,) in pids]


def blocks(database_url: str) -> tuple[int, int]:
    """(blocks found in shared buffers, blocks read from outside them) so far."""
    time.sleep(1.2)  # backends report their counters at most once a second
    with psycopg.connect(database_url, autocommit=True) as conn:
        query = "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = %s"
        return conn.execute(query, [DATABASE]).fetchone()


def pgbouncer_start(folder: Path, url: str) -> tuple[subprocess.Popen, str]:
    parts = urlsplit(url)
    port = free_port()
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n{DATABASE} = host={parts.hostname} port={parts.port or 5432} dbname={DATABASE}"
        f" user={parts.username or 'postgres'}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = any\n"
        "pool_mode = session\ndefault_pool_size = 20\nmax_client_conn = 200\nserver_reset_query = DISCARD ALL\n"
        f"ignore_startup_parameters = extra_float_digits,options\nlogfile = {folder}/pgbouncer.log\n"
        f"pidfile = {folder}/pgbouncer.pid\n"
    )
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer will not run as root
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bounced = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{port}"))
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(bounced, connect_timeout=1).close()
            return process, bounced
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pgbouncer did not start") from None
            time.sleep(0.2)


def profile_report(folder: Path) -> None:
    files = [str(path) for path in folder.glob("*.prof")]
    if not files:
        print("  (no profile written)")
        return
    stats = pstats.Stats(*files)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"  cProfile, {len(files)} workers, {total:.1f} s inside the application; top 25 by own time:")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:25]  # type: ignore[attr-defined]
    for (filename, line, function), (_, calls, own, cumulative, _callers) in rows:
        where = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        shares = f"{own / total * 100:5.1f} % own {cumulative / total * 100:5.1f} % cum"
        print(f"  {shares}  {calls:>8}  {where}:{line} {function}")
    print("  top 20 of Tessera's own functions by cumulative time:")
    ours = [
        item
        for item in stats.stats.items()  # type: ignore[attr-defined]
        if str(ROOT) in item[0][0] and ".venv" not in item[0][0]
    ]
    for (filename, line, function), (_, calls, _own, cumulative, _callers) in sorted(
        ours, key=lambda item: item[1][3], reverse=True
    )[:20]:
        where = filename.replace(str(ROOT) + "/", "")
        print(f"  {cumulative / total * 100:5.1f} % cum  {calls:>8}  {where}:{line} {function}")


def main() -> int:
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install -y wrk): skipped")
        return 0
    url = scratch_database_create(DATABASE)
    folder = Path(tempfile.mkdtemp(prefix="tessera-bench-requests-"))
    servers: list[Server] = []
    bouncer = None
    try:
        env = base_env(url)
        started = time.perf_counter()
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate_schemas", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
        populate = f"from bench.baseline.setup import populate; populate({SPREAD}, {str(folder / 'data.json')!r})"
        subprocess.run([*manage, "shell", "-c", populate], cwd=ROOT, env=env, check=True, capture_output=True)
        data = json.loads((folder / "data.json").read_text())
        print(
            f"machine: {os.cpu_count()} cores; {SPREAD} tenants with 50 products each set up in "
            f"{time.perf_counter() - started:.0f} s; gunicorn 2 sync workers, wrk -t2 -c16, "
            f"{ROUNDS} rounds of {SECONDS} s"
        )
        one = data["tenants"][0]
        scripts = {
            "tessera": lua_script(folder, "one", [one]),
            "stock": lua_script(folder, "stock", [{"host": "127.0.0.1"}]),
            "routed": lua_script(folder, "routed", [{"host": one["host"]}]),
            "spread": lua_script(folder, "spread", data["tenants"]),
        }
        configs = {
            "tessera": (env, "tessera"),
            "stock": (
                {**env, "DJANGO_SETTINGS_MODULE": "bench.baseline.settings_stock", "BENCH_SCHEMA": data["schema"]},
                "stock",
            ),
            "routed": ({**env, "DJANGO_SETTINGS_MODULE": "bench.baseline.settings_routed"}, "routed"),
            "spread": (env, "spread"),
        }
        if Path(PGBOUNCER).exists():
            bouncer, bounced = pgbouncer_start(folder, url)
            configs["pgbouncer"] = ({**base_env(bounced), "DB_POOL_MODE": "session"}, "tessera")
        results: dict[str, list[float]] = {name: [] for name in configs}
        memory: list[tuple[str, int, int]] = []
        reads: dict[str, list[float]] = {name: [] for name in configs}
        for round_ in range(ROUNDS):
            for name, (config_env, script) in configs.items():
                server = Server(config_env)
                servers.append(server)
                # Warm: connections, caches, imports; spread warms until every worker has
                # met most tenants (a long-running server's state, not a cold start's).
                wrk(server.port, SPREAD_WARM if name == "spread" else 3, scripts[script])
                hit, read = blocks(url)
                results[name].append(wrk(server.port, SECONDS, scripts[script]))
                hit_after, read_after = blocks(url)
                reads[name].append((read_after - read) / max(hit_after - hit + read_after - read, 1))
                if name in ("tessera", "spread"):
                    workers = sum(rss_anon_kib(pid) for pid in server.workers())
                    memory.append((f"{name}, round {round_ + 1}", workers, sum(backends_kib(url))))
                server.stop()
                servers.remove(server)
        medians = {name: statistics.median(values) for name, values in results.items()}
        print("product list of 50, requests/s (median of rounds; rounds in brackets):")
        for name, values in results.items():
            rounds = ", ".join(f"{value:.0f}" for value in values)
            print(f"  {name:<10} {medians[name]:7.1f}  [{rounds}]")
        print(f"  tessera / stock:  {medians['tessera'] / medians['stock']:.2f}x")
        print(f"  tessera / routed: {medians['tessera'] / medians['routed']:.2f}x")
        print(f"  spread over {SPREAD} tenants / one tenant: {medians['spread'] / medians['tessera']:.3f}x")
        if "pgbouncer" in medians:
            print(f"  through pgbouncer (session pooling) / direct: {medians['pgbouncer'] / medians['tessera']:.2f}x")
        print("blocks PostgreSQL read from outside its shared buffers, share of all it needed (median):")
        print("  " + ", ".join(f"{name} {statistics.median(values) * 100:.2f} %" for name, values in reads.items()))
        print("private memory (RssAnon) after each run: 2 gunicorn workers | their PostgreSQL backends, total")
        for label, workers, backends in memory:
            print(f"  {label:<18} {workers / 1024:7.1f} MiB | {backends / 1024:6.1f} MiB")
        if PROFILE:
            for name in ("tessera", "spread"):
                profiles = folder / f"profile-{name}"
                profiles.mkdir()
                warm = SPREAD_WARM if name == "spread" else 3
                # The workers profile only after the warm-up (bench/baseline/profiled.py).
                profiled_env = {**env, "BENCH_PROFILE_DIR": str(profiles), "BENCH_PROFILE_AFTER": str(warm + 1)}
                server = Server(profiled_env, "bench.baseline.profiled:application")
                servers.append(server)
                wrk(server.port, warm, scripts[name])
                time.sleep(1.5)
                wrk(server.port, SECONDS, scripts[name])
                server.stop()
                servers.remove(server)
                print(f"profile, {name}:")
                profile_report(profiles)
    finally:
        for server in servers:
            server.process.kill()
        if bouncer is not None:
            bouncer.terminate()
            bouncer.wait()
        if KEEP:
            print(f"kept: database {DATABASE}, files in {folder}")
        else:
            scratch_database_drop(DATABASE)
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
