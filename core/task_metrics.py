"""Celery task metrics from Celery's signals, and the worker's own metrics endpoint.

Imported by `config/celery.py`, so every process that loads the Celery app (workers
above all) has these receivers connected. Task names label the series: they are the
registered tasks, a bounded set.

A worker is not behind the load balancer and serves no HTTP, so with
CELERY_METRICS_PORT set it starts prometheus_client's small HTTP server on
CELERY_METRICS_ADDR (127.0.0.1 unless set) in its main process. Prefork pool processes
record their tasks in PROMETHEUS_MULTIPROC_DIR, which that server sums; see
docs/operations.md.
"""

import contextlib
import logging
import time
from pathlib import Path

from celery.signals import task_failure, task_postrun, task_prerun, worker_init
from django.conf import settings
from prometheus_client import start_http_server

from core.metrics import TASK_DURATION, TASK_FAILURES, TASKS, exposed_registry, multiprocess_dir

log = logging.getLogger("tessera.tasks")

# Start times by task id, in the process that runs the task.
_started: dict[str, float] = {}


def _task_name(task) -> str:
    return getattr(task, "name", None) or "unknown"


@task_prerun.connect
def _task_starts(task_id=None, task=None, **kwargs):
    if task_id:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_ends(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None) if task_id else None
    name = _task_name(task)
    state = state or "UNKNOWN"
    TASKS.labels(task=name, state=state).inc()
    if started is not None:
        TASK_DURATION.labels(task=name, state=state).observe(time.perf_counter() - started)


@task_failure.connect
def _task_fails(task_id=None, exception=None, sender=None, **kwargs):
    TASK_FAILURES.labels(task=_task_name(sender), exception=type(exception).__name__).inc()


@worker_init.connect
def _serve_worker_metrics(**kwargs):
    port = settings.CELERY_METRICS_PORT
    if not port:
        return
    directory = multiprocess_dir()
    if directory:
        # Values left by a previous run of this worker would be summed with this one's.
        # The pool processes have not started yet, and this main process runs no task.
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
    start_http_server(port, addr=settings.CELERY_METRICS_ADDR, registry=exposed_registry())
    log.info("worker metrics on http://%s:%d/metrics", settings.CELERY_METRICS_ADDR, port)
