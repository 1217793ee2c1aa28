"""Baseline: Django's stock backend, no tenant routing, no authentication.

The schema is `BENCH_SCHEMA`, put on the connection's search_path at connect (as a
single-tenant Django project on its own database would be).
"""

import os

from config.settings.production import *  # noqa: F403
from config.settings.production import DATABASES, MIDDLEWARE

_options = DATABASES["default"].setdefault("OPTIONS", {})
_options["options"] = f"{_options.get('options', '')} -c search_path={os.environ['BENCH_SCHEMA']},public".strip()
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
ROOT_URLCONF = "bench.baseline.urls"
MIDDLEWARE = [
    name
    for name in MIDDLEWARE
    if name not in {"tenants.middleware.TenantMiddleware", "plans.middleware.EntitlementsMiddleware"}
]
