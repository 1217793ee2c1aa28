"""Baseline: plain django-tenants routing (its backend and `TenantMainMiddleware`,
which reads the `Domain` row on every request), no authentication."""

from config.settings.production import *  # noqa: F403
from config.settings.production import DATABASES, MIDDLEWARE

DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
ROOT_URLCONF = "bench.baseline.urls"
PUBLIC_SCHEMA_URLCONF = "bench.baseline.urls"
MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware" if name == "tenants.middleware.TenantMiddleware" else name
    for name in MIDDLEWARE
    if name != "plans.middleware.EntitlementsMiddleware"
]
