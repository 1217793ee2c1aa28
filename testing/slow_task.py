"""A task for the shutdown test only, loaded by the worker it starts
(`celery worker -I testing.slow_task`) and never by the app: it writes `started`, works
for `seconds`, then writes `done`, so the test can stop the worker while it runs and
see whether it finished."""

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="testing.slow_task.slow_touch")
def slow_touch(*, started: str, done: str, seconds: float) -> None:
    Path(started).write_text("started")
    time.sleep(seconds)
    Path(done).write_text("done")
