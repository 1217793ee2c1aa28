"""gunicorn's settings for Tessera: `gunicorn -c config/gunicorn.py config.wsgi:application`.

The Dockerfile's command and the end-to-end test load this file; flags on the command
line (bind, workers) and GUNICORN_CMD_ARGS override what is set here.
"""

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.http import wsgi

# X-Forwarded-Proto (and the other secure-scheme headers) are believed only from these
# peers: the load balancer's addresses, plus 127.0.0.1 for the container's health
# check. Never every peer by default: anyone reaching port 8000 could claim HTTPS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn's own limit on the request line (it answers 414 in HTML beyond it), raised to
# its maximum so the application's lower MAX_URI_LENGTH answers, in JSON, nearly always.
limit_request_line = 8190
# SIGTERM (a deploy, a scale-in) is a graceful stop: the master closes its sockets, so
# nothing new is accepted, and each worker finishes the request it is serving, for up
# to graceful_timeout seconds, before it exits. The orchestrator's grace period must
# be longer (docker-compose.yml: stop_grace_period), or its SIGKILL cuts requests off.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# A worker silent this long (one request running past it) is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

# gunicorn writes `Server: gunicorn` on every response and has no setting for it; the
# header only tells a scanner what to try. Drop it from the headers gunicorn adds.
_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _default_headers_without_server


# Prometheus multiprocess mode (core/metrics.py): each worker writes its metric values
# to files in this directory and /metrics, answered by any one worker, sums them all.
# Set here, in the master, so every worker forked from it inherits it before it imports
# prometheus_client. An operator's own directory is wiped at start (the values of a
# previous run would be summed with this one's); one made here is removed at exit.
_metrics_dir_is_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir_is_ours:
    _shm = Path("/dev/shm")  # noqa: S108 - mkdtemp makes a private directory (0700, unguessable name)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="tessera-metrics-", dir=_shm if _shm.is_dir() and os.access(_shm, os.W_OK) else None
    )


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_is_ours:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
