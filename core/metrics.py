"""Prometheus metrics of the web and worker processes, and how they are exposed.

Every label has a bounded set of values: routes are URL patterns (never raw paths),
methods outside the HTTP verbs are "other", tenants are labelled by plan. The one
per-tenant series, `tessera_tenant_requests_total`, is cut to the top
METRICS_TOP_TENANTS tenants each time it is exposed.

gunicorn runs several worker processes and Celery several pool processes, and a scrape
reaches only one of them. When PROMETHEUS_MULTIPROC_DIR is set (config/gunicorn.py
sets it), every process writes its values to files there and the exposition sums them,
so any one process answers for all. Without it (runserver, tests) a process exposes
its own values. Metrics here all have labels: a labelled metric writes no file until
it is first used, which lets a process start-up wipe the directory safely.
"""

import functools
import os
import re

from django.conf import settings
from django.urls import ResolverMatch
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

HTTP_REQUESTS = Counter(
    "tessera_http_requests_total",
    "HTTP requests answered, by URL pattern, method, status and the tenant's plan.",
    ["route", "method", "status", "plan"],
)
HTTP_DURATION = Histogram(
    "tessera_http_request_duration_seconds",
    "Time from the first middleware after the request id to the response, in seconds.",
    ["route", "method", "status_class", "plan"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_QUERIES = Histogram(
    "tessera_http_request_db_queries",
    "Database queries made while answering one HTTP request.",
    ["route", "method"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200),
)
TENANT_REQUESTS = Counter(
    "tessera_tenant_requests_total",
    "HTTP requests per tenant slug; exposed for the top METRICS_TOP_TENANTS tenants only.",
    ["tenant"],
)
CACHE_REQUESTS = Counter(
    "tessera_cache_requests_total",
    "Cache reads by cache alias and result: hit, miss or error (Redis unreachable).",
    ["cache", "result"],
)
TASKS = Counter(
    "tessera_celery_tasks_total",
    "Celery tasks finished, by task name and final state (SUCCESS, FAILURE, RETRY, ...).",
    ["task", "state"],
)
TASK_DURATION = Histogram(
    "tessera_celery_task_duration_seconds",
    "Run time of Celery tasks in the worker, in seconds.",
    ["task", "state"],
    buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
TASK_FAILURES = Counter(
    "tessera_celery_task_failures_total",
    "Celery tasks that raised, by task name and exception class.",
    ["task", "exception"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def method_label(method: str | None) -> str:
    """A client may send any method name; only the verbs become label values."""
    return method if method in _METHODS else "other"


def route_label(match: ResolverMatch | None) -> str:
    """The URL pattern that served the request, as the docs write it:
    `api/v1/products/<pk>/`, never the path that was asked for. `unmatched` when no
    pattern did (unknown hosts, 404s of the resolver, answers of early middleware)."""
    if match is None or not match.route:
        return "unmatched"
    return _NAMED_GROUP.sub(r"<\1>", match.route).replace("^", "").replace("$", "")


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class _TopTenants(Collector):
    """Passes every metric through, with the per-tenant counter cut to its top N."""

    def __init__(self, source: Collector):
        self.source = source

    def collect(self):
        for family in self.source.collect():
            if family.name == "tessera_tenant_requests":
                totals = {s.labels["tenant"]: s.value for s in family.samples if s.name.endswith("_total")}
                top = set(sorted(totals, key=lambda slug: (-totals[slug], slug))[: settings.METRICS_TOP_TENANTS])
                family.samples = [s for s in family.samples if s.labels.get("tenant") in top]
            yield family


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@functools.cache
def exposed_registry() -> CollectorRegistry:
    """What a scrape reads: every process's values in multiprocess mode, else this one's."""
    source: Collector = REGISTRY
    if multiprocess_dir():
        source = CollectorRegistry()
        MultiProcessCollector(source)
    exposed = CollectorRegistry(auto_describe=False)
    exposed.register(_TopTenants(source))
    return exposed


def exposition() -> tuple[bytes, str]:
    """The scrape's body and content type (Prometheus text format)."""
    return generate_latest(exposed_registry()), CONTENT_TYPE_LATEST
