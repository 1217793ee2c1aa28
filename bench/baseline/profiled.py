"""Tessera's WSGI application under cProfile, for `BENCH_PROFILE=1 make bench ARGS=request_path`.

Each gunicorn worker profiles only the time inside the application (not gunicorn's
accept loop) and writes its profile to `BENCH_PROFILE_DIR/<pid>.prof` as it exits.
"""

import atexit
import cProfile
import os

from config.wsgi import application as _application

_profile = cProfile.Profile()


def application(environ, start_response):
    _profile.enable()
    try:
        return _application(environ, start_response)
    finally:
        _profile.disable()


@atexit.register
def _dump() -> None:
    _profile.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"], f"{os.getpid()}.prof"))
