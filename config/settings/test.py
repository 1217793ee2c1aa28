"""Tests: fast hashing, mail kept in memory, cache keys unique to this run."""

import atexit
import os
import shutil
import tempfile
import uuid

from .base import *  # noqa: F403
from .base import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES, JOB_SPREAD_SECONDS, REST_FRAMEWORK, STORAGES, env

DEBUG = False
# Argon2 stays the default hasher in production; in tests its cost would dominate.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Each run writes under its own prefix, so nothing needs flushing and a shared Redis
# (CI's, or a developer's) is never wiped or polluted by stale values of another run.
# A Celery worker started by a test inherits TEST_RUN_ID, so it shares the same keys.
TEST_RUN_ID = env("TEST_RUN_ID", default=uuid.uuid4().hex[:8])
for _alias, _cache in CACHES.items():
    _cache["KEY_PREFIX"] = f"test-{TEST_RUN_ID}:{_alias}"

# CITUS_DATABASE_URL: the suite runs on that Citus coordinator instead (testing/citus.py,
# docs/scaling.md). Children a test starts (servers, workers) follow through DATABASE_URL.
CITUS_DATABASE_URL = env("CITUS_DATABASE_URL", default="")
if CITUS_DATABASE_URL:
    # Children get the coordinator as DATABASE_URL (testing.processes names the test
    # database in it) and no CITUS_DATABASE_URL, which would name the database again.
    os.environ["DATABASE_URL"] = os.environ.pop("CITUS_DATABASE_URL")
    _citus = env.db_url_config(CITUS_DATABASE_URL)
    DATABASES["default"].update({key: _citus[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")})

# Tests exercise throttling on purpose with their own rates; the defaults must not trip
# while the suite logs in hundreds of times from one address. A server a test starts
# may be given a rate in the environment (TEST_THROTTLE_LOGIN_ACCOUNT=5/15m).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    scope: env(f"TEST_THROTTLE_{scope.upper()}", default="10000/min")
    for scope in ("login_account", "login_ip", "auth", "register", "invitation", "password_reset")
}

# A worker started by the end-to-end test listens on this run's own queue only.
CELERY_TASK_DEFAULT_QUEUE = f"test-{TEST_RUN_ID}"

# Documents' bytes go to a directory of this run's own, removed at its end. Set in the
# environment, so a server or worker a test starts shares it (and leaves it alone).
if "MEDIA_ROOT" not in os.environ:
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="tessera-test-media-")
    atexit.register(shutil.rmtree, os.environ["MEDIA_ROOT"], ignore_errors=True)
MEDIA_ROOT = os.environ["MEDIA_ROOT"]
if "location" in STORAGES["documents"].get("OPTIONS", {}):
    STORAGES["documents"]["OPTIONS"]["location"] = MEDIA_ROOT

# Scheduled jobs run at once in tests: the spread is tested on its own (tenants.jobs).
JOB_SPREAD_SECONDS = dict.fromkeys(JOB_SPREAD_SECONDS, 0)
# A worker started by a test finds a dead worker's task again within seconds, not
# after the production sweep interval (CELERY_VISIBILITY_TIMEOUT sets how old it must be).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

# Tests make hundreds of calls a minute as one tenant; plans/tests/test_quotas.py turns
# the per-tenant API rate back on to test it.
TENANT_API_RATE_LIMIT = False

# No spare schemas unless a test asks (tenants/tests/test_spares.py): each would be a
# clone the suite waits for, and tests count the schemas they make.
SPARE_SCHEMAS = env.int("SPARE_SCHEMAS", default=0)

# Webhook receivers in tests listen on 127.0.0.1 over plain HTTP; the tests of the
# URL rules turn this off again. A worker a test starts inherits it.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=True)

# A name missing from audit/vocabulary.py fails loudly here (only logged in production).
AUDIT_STRICT_VOCABULARY = True
