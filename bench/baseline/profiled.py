"""Tessera's WSGI application under cProfile, for `BENCH_PROFILE=1 make bench ARGS=request_path`.

Each gunicorn worker profiles only the time inside the application (not gunicorn's
accept loop), from BENCH_PROFILE_AFTER seconds after it started (0: at once; the bench
leaves its warm-up out so), and writes its profile to `BENCH_PROFILE_DIR/<pid>.prof` as
it exits.
"""

import atexit
import cProfile
import os
import time

from config.wsgi import application as _application

_profile = cProfile.Profile()
_from = time.monotonic() + float(os.environ.get("BENCH_PROFILE_AFTER", "0"))


def application(environ, start_response):
    if time.monotonic() < _from:
        return _application(environ, start_response)
    _profile.enable()
    try:
        return _application(environ, start_response)
    finally:
        _profile.disable()


@atexit.register
def _dump() -> None:
    _profile.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"], f"{os.getpid()}.prof"))
