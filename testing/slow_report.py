"""Fault injection for the worker-kill test, loaded only by the worker it starts
(`celery worker -I testing.slow_report`): the weekly report's CSV takes
SLOW_REPORT_SECONDS, after writing SLOW_REPORT_MARKER, so the test can kill the worker
while the report's transaction is open."""

import os
import time
from pathlib import Path

from reports import services

_build = services.weekly_report_csv


def _slow_build(**kwargs):
    Path(os.environ["SLOW_REPORT_MARKER"]).write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("SLOW_REPORT_SECONDS", "60")))
    return _build(**kwargs)


services.weekly_report_csv = _slow_build
