"""Tessera's production settings plus `bench.baseline.onecolumn`, a tenant app whose
one migration adds a column to every tenant's products table (bench/scale.py)."""

from config.settings.production import *  # noqa: F403
from config.settings.production import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "bench.baseline.onecolumn"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline.onecolumn"]
