"""Tenant telemetry: provisioning and schema migration durations, and which tenant
(and plan) each request was for, for the kernel's HTTP metrics (`core.observability`).

Migrations are timed per schema from django-tenants' own signals, sent around each
schema's migration by whichever executor runs them. `migrate_schemas` is a one-off
process that Prometheus does not scrape, so each schema's duration is also logged
(`tessera.tenants`, with `schema`, `kind` and `duration_ms`); see docs/operations.md.
"""

import functools
import logging
import time

from django.dispatch import receiver
from django_tenants.signals import schema_migrated, schema_pre_migration
from django_tenants.utils import get_public_schema_name
from prometheus_client import Histogram

from core.observability import TenantLabels

from .schemas import template_schema
from .selectors import tenant_plan

log = logging.getLogger("tessera.tenants")

PROVISION_DURATION = Histogram(
    "tessera_tenant_provision_duration_seconds",
    "Time to provision a tenant (row, cloned schema, domains, owner), by outcome: ok or error.",
    ["outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
SCHEMA_MIGRATION_DURATION = Histogram(
    "tessera_schema_migration_duration_seconds",
    "Time to migrate one schema, by kind: public, template or tenant.",
    ["kind"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)


def request_labels(request) -> TenantLabels:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return TenantLabels(plan="none")
    if tenant.is_public:
        return TenantLabels(plan="public", schema=tenant.schema_name)
    # The request's own evaluation when the middleware made one (no second lookup).
    evaluated = getattr(request, "entitlements", None)
    plan = (evaluated.plan or "none") if evaluated is not None else tenant_plan(tenant)
    return TenantLabels(plan=plan, slug=tenant.slug, schema=tenant.schema_name)


def measure_provisioning(func):
    """Time `tenant_provision`, outside its transaction so the commit counts too."""

    @functools.wraps(func)
    def measured(*args, **kwargs):
        started = time.perf_counter()
        outcome = "error"
        try:
            result = func(*args, **kwargs)
            outcome = "ok"
            return result
        finally:
            seconds = time.perf_counter() - started
            PROVISION_DURATION.labels(outcome=outcome).observe(seconds)
            duration_ms = round(seconds * 1000, 1)
            log.info(
                "tenant provisioning %s: %s in %.1fms",
                kwargs.get("slug"),
                outcome,
                duration_ms,
                extra={"slug": kwargs.get("slug"), "outcome": outcome, "duration_ms": duration_ms},
            )

    return measured


def _schema_kind(schema_name: str) -> str:
    if schema_name == get_public_schema_name():
        return "public"
    return "template" if schema_name == template_schema() else "tenant"


_migration_started: dict[str, float] = {}


@receiver(schema_pre_migration)
def _migration_starts(sender, schema_name, **kwargs):
    _migration_started[schema_name] = time.perf_counter()


@receiver(schema_migrated)
def _migration_ends(sender, schema_name, **kwargs):
    started = _migration_started.pop(schema_name, None)
    if started is None:
        return
    seconds = time.perf_counter() - started
    kind = _schema_kind(schema_name)
    SCHEMA_MIGRATION_DURATION.labels(kind=kind).observe(seconds)
    duration_ms = round(seconds * 1000, 1)
    log.info(
        "schema %s (%s) migrated in %.1fms",
        schema_name,
        kind,
        duration_ms,
        extra={"schema": schema_name, "kind": kind, "duration_ms": duration_ms},
    )
