"""scripts/dev.py, the command behind `make run` and `make manage`, with real processes.

`run` is started as the Makefile starts it, with the embedded PostgreSQL and Redis in a
data folder of this module's own and on a free port. Every way of stopping it must stop
web, worker, beat (their whole process groups) and both servers; a busy port or an
earlier run's processes are refused in one line before anything starts; `manage.py`
reaches the same servers with nothing set by hand.

The data folder is shared by the module: its first migration costs about 15 s on the
development VM, each start of `run` 15 to 35 s (the whole module: 2 to 3 minutes), so
the module runs only when asked for (pytest.ini). Never the machine's servers, never
`.devdata/`.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pgserver.utils import PostmasterInfo

from testing.processes import ROOT, free_port

# Minutes, not seconds: deselected unless asked for (`make test ARGS="-m devscript"`).
pytestmark = [pytest.mark.devscript]

DEV = [sys.executable, "scripts/dev.py"]
START_TIMEOUT = 240  # seconds: a start on a busy 2-core machine, demo data included
STOP_TIMEOUT = 60


def dev_env(data: Path, port: int) -> dict[str, str]:
    """As on a laptop: no DATABASE_URL / REDIS_URL, so the embedded servers are used."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "PUBLIC_URL_PORT")
    }
    env.update(
        TESSERA_DATA_DIR=str(data),
        PORT=str(port),
        MEDIA_ROOT=str(data / "media"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # as the Makefile does
    )
    return env


def new_data_folder() -> Path:
    # Short: PostgreSQL's socket lives in it, and socket paths are limited to 107 bytes.
    return Path(tempfile.mkdtemp(prefix="tsr-dev-"))


class Run:
    """`scripts/dev.py run` in a session of its own (as in a terminal), its output in a file."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.log = data / f"run-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*DEV, "run"],
                cwd=ROOT,
                env=dev_env(data, self.port),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_up(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while "Tessera is up" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"make run did not come up:\n{self.output()[-4000:]}")
            time.sleep(0.5)
        return self.output()

    def wait_until_stopped(self) -> int:
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"make run did not stop:\n{self.output()[-4000:]}") from None

    def get(self, path: str, host: str = "localhost") -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers={"Host": host})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status


def state(data: Path) -> dict:
    return json.loads((data / "services.json").read_text())


def processes_of(data: Path) -> dict[str, list[int]]:
    """Every live process of the run on data: web, worker and beat with their process
    groups (runserver's reloader, Celery's pool), PostgreSQL, Redis."""
    found: dict[str, list[int]] = {}
    groups = state(data).get("children", {})
    redis_port = int(state(data)["redis_url"].rsplit(":", 1)[1].split("/")[0])
    postmaster = PostmasterInfo.read_from_pgdata(data / "pg")
    for process in psutil.process_iter(["pid", "status"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            for name, pid in groups.items():
                if os.getpgid(process.pid) == pid:
                    found.setdefault(name, []).append(process.pid)
            if postmaster is not None and process.pid == postmaster.pid:
                found.setdefault("postgres", []).append(process.pid)
            if process.name().startswith("redis-server") and any(
                conn.laddr.port == redis_port for conn in process.net_connections("tcp")
            ):
                found.setdefault("redis", []).append(process.pid)
    return found


def alive(pid: int) -> str | None:
    """The command line of pid if it still runs (a zombie has stopped)."""
    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else " ".join(process.cmdline())
    except psutil.Error:
        return None


def gone(pids: dict[str, list[int]]) -> dict[str, list[str]]:
    """Those still running, after a moment for the last ones to exit: {} when all are gone."""
    deadline = time.monotonic() + 20
    while True:
        left = {name: [f"{pid} {alive(pid)}" for pid in group if alive(pid)] for name, group in pids.items()}
        left = {name: group for name, group in left.items() if group}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def tidy(data: Path) -> None:
    """After a test, whatever happened: nothing of this data folder keeps running."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        for group in processes_of(data).values():
            for pid in group:
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).kill()


@pytest.fixture(scope="module")
def data() -> Iterator[Path]:
    """A data folder whose database is migrated (`make manage`, which also tests that it
    starts the servers for the command and stops them after)."""
    folder = new_data_folder()
    env = dev_env(folder, free_port())
    try:
        subprocess.run(
            [*DEV, "manage", "migrate_schemas", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=START_TIMEOUT,
            capture_output=True,
        )
        yield folder
    finally:
        tidy(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def run_on(data: Path) -> Iterator[Path]:
    yield data
    tidy(data)


def test_run_prints_the_banner_last_and_stops_everything_on_sighup(run_on):
    run = Run(run_on)
    output = run.wait_until_up()
    banner = output[output.index("Tessera is up") :]
    for url in (
        f"http://localhost:{run.port}/",
        f"http://localhost:{run.port}/admin/",
        f"http://acme.localhost:{run.port}/api/docs/",
        f"http://acme.localhost:{run.port}/api/redoc/",
        f"http://acme.localhost:{run.port}/api/v1/",
    ):
        assert url in banner
    assert "owner@acme.test" in banner and "tessera-demo-2026" in banner
    # Printed once web, worker and beat are up, so after their start-up output.
    assert output.index("celery@") < output.index("Tessera is up")
    assert output.index("beat: Starting") < output.index("Tessera is up")
    assert run.get("/healthz") == 200

    # manage.py alone, with nothing set, reaches the same database while it runs ...
    env = dev_env(run_on, run.port)
    tenants = subprocess.run(
        [sys.executable, "manage.py", "list_tenants"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert tenants.returncode == 0, tenants.stderr
    assert "acme.localhost" in tenants.stdout and "globex.localhost" in tenants.stdout
    # ... and so does dbshell, through the socket, with the psql that pgserver ships.
    query = subprocess.run(
        [sys.executable, "manage.py", "dbshell", "--", "-At", "-c", "SELECT count(*) FROM tenants_domain"],
        cwd=ROOT,
        env={**env, "PATH": "/usr/bin:/bin"},  # no psql of the machine's to fall back on
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert query.returncode == 0, query.stderr
    assert int(query.stdout.strip()) >= 3  # the public host, acme, globex

    pids = processes_of(run_on)
    assert set(pids) == {"web", "worker", "beat", "postgres", "redis"}
    os.kill(run.process.pid, signal.SIGHUP)  # the terminal was closed
    assert run.wait_until_stopped() == 0
    assert gone(pids) == {}
    assert "SIGHUP received" in run.output()
    assert state(run_on)["pid"] is None


def test_run_killed_outright_leaves_no_children_and_the_next_run_adopts_its_servers(run_on):
    first = Run(run_on)
    first.wait_until_up()
    pids = processes_of(run_on)
    first.process.kill()  # SIGKILL: no handler, no exit hooks
    first.wait_until_stopped()
    # web, worker and beat get SIGTERM from the kernel; the servers outlive it ...
    assert gone({name: pids[name] for name in ("web", "worker", "beat")}) == {}
    assert set(gone({name: pids[name] for name in ("postgres", "redis")})) == {"postgres", "redis"}
    # ... and its pid stays in pgserver's list of the server's users.
    assert first.process.pid in json.loads((run_on / "pg" / ".handle_pids.json").read_text())

    second = Run(run_on)
    output = second.wait_until_up()
    assert f"forgot PostgreSQL handles of processes that are gone ({first.process.pid})" in output
    assert f"PostgreSQL left running by an earlier run (pid {pids['postgres'][0]})" in output
    assert second.get("/healthz") == 200
    pids = processes_of(run_on)
    os.kill(second.process.pid, signal.SIGTERM)
    assert second.wait_until_stopped() == 0
    assert gone(pids) == {}  # the adopted servers included
    assert json.loads((run_on / "pg" / ".handle_pids.json").read_text()) == []


def test_run_stops_everything_when_a_child_dies(run_on):
    run = Run(run_on)
    run.wait_until_up()
    pids = processes_of(run_on)
    os.kill(state(run_on)["children"]["worker"], signal.SIGKILL)
    assert run.wait_until_stopped() != 0
    assert "worker exited with code -9: stopping everything" in run.output()
    assert gone(pids) == {}


def test_manage_starts_the_servers_for_one_command_and_manage_py_says_when_they_are_down(data):
    env = dev_env(data, free_port())
    command = subprocess.run(
        [*DEV, "manage", "list_tenants"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=START_TIMEOUT
    )
    assert command.returncode == 0, command.stderr
    assert "SLUG" in command.stdout
    postmaster = PostmasterInfo.read_from_pgdata(data / "pg")
    assert postmaster is None or not postmaster.is_running()  # stopped with the command

    alone = subprocess.run(
        [sys.executable, "manage.py", "list_tenants"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert alone.returncode == 1
    assert alone.stderr.strip().splitlines() == [
        f"Cannot reach the database: the embedded servers of {data} are not running: run the command as "
        '`make manage ARGS="..."` (it starts them for the command), or start `make run` first.'
    ]


def test_run_refuses_a_busy_port_before_starting_anything():
    folder = new_data_folder()
    try:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            result = subprocess.run(
                [*DEV, "run"], cwd=ROOT, env=dev_env(folder, port), capture_output=True, text=True, timeout=60
            )
        assert result.returncode == 1
        assert result.stdout.splitlines() == [
            f"[dev] port {port} is in use by pid {os.getpid()} ({' '.join(psutil.Process().cmdline())[:80]}): "
            f"stop it with `kill {os.getpid()}`, or serve on another port with `make run PORT={port + 1}`."
        ]
        assert not (folder / "pg").exists()  # no server was started
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_run_refuses_to_start_beside_processes_of_an_earlier_run():
    folder = new_data_folder()
    env = dev_env(folder, free_port())
    # A worker of an earlier run: it carries the mark that scripts/dev.py gives its children.
    left = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], env={**env, "TESSERA_DEV_PROCESS": str(folder)}
    )
    try:
        result = subprocess.run([*DEV, "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert result.stdout.splitlines() == [
            f"[dev] processes of an earlier `make run` for {folder} are still running (pids {left.pid}): "
            f"stop them with `kill {left.pid}`, then start again."
        ]
        assert not (folder / "pg").exists()
    finally:
        left.kill()
        left.wait()
        shutil.rmtree(folder, ignore_errors=True)
