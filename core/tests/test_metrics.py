"""Prometheus metrics: /metrics is refused without the token, counters move after
real requests, labels are route/status/plan (never a path or, outside the capped
per-tenant counter, a slug), and cache, task, provisioning and migration figures move."""

import uuid

import pytest
from django.core.cache import caches
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from core.observability import TenantLabels
from tenants.metrics import request_labels
from tenants.tasks import tenant_usage_report
from tenants.tests.factories import TenantFactory
from testing.helpers import host_of

pytestmark = pytest.mark.django_db
TOKEN = "metrics-test-token-" + "x" * 32


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(host: str = "localhost") -> dict[tuple[str, frozenset], float]:
    """{(sample name, labels): value} as Prometheus would read it from /metrics."""
    response = APIClient(HTTP_HOST=host).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.parametrize("host", ["alpha.localhost", "localhost", "10.0.0.7"])
def test_metrics_refuse_anonymous_and_wrong_tokens(metrics_token, tenant_a, host):
    client = APIClient(HTTP_HOST=host)
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "not_authenticated"
        assert b"tessera_" not in response.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_metrics_are_off_without_a_token_setting(settings, tenant_a):
    settings.METRICS_TOKEN = ""
    response = APIClient(HTTP_HOST=host_of(tenant_a)).get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404 and b"tessera_" not in response.content


def test_request_counters_move_labelled_by_route_status_and_plan(metrics_token, api_client_for, tenant_a):
    before = scrape()
    member = api_client_for(tenant_a, "member")
    missing = uuid.uuid4()
    assert member.get("/api/v1/products/").status_code == 200
    assert member.get("/api/v1/products/").status_code == 200
    assert member.get(f"/api/v1/products/{missing}/").status_code == 404
    assert APIClient(HTTP_HOST=host_of(tenant_a)).get("/api/v1/products/").status_code == 401
    assert APIClient(HTTP_HOST="nope.localhost").get(f"/api/v1/products/{missing}/").status_code == 404
    assert APIClient(HTTP_HOST="localhost").get("/api/v1/nothing-here/").status_code == 404
    after = scrape()

    def moved(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "tessera_http_requests_total"
    products = {"route": "api/v1/products/", "method": "GET", "plan": "team"}
    assert moved(requests, **products, status="200") == 2
    assert moved(requests, **products, status="401") == 1
    assert moved(requests, route="api/v1/products/<pk>/", method="GET", status="404", plan="team") == 1
    # No pattern matched: an unknown host (no tenant at all), a path the public host lacks.
    assert moved(requests, route="unmatched", method="GET", status="404", plan="none") == 1
    assert moved(requests, route="unmatched", method="GET", status="404", plan="public") == 1

    duration = "tessera_http_request_duration_seconds_count"
    assert moved(duration, **products, status_class="2xx") == 2
    assert moved("tessera_http_request_db_queries_count", route="api/v1/products/", method="GET") == 3
    assert moved("tessera_http_request_db_queries_sum", route="api/v1/products/", method="GET") >= 2

    # Bounded labels only: no raw path, no id, and the slug only in the capped counter.
    for name, labels in after:
        label_values = dict(labels).values()
        assert not any(str(missing) in v or "nope" in v for v in label_values), (name, labels)
        if not name.startswith("tessera_tenant_requests"):
            assert tenant_a.slug not in label_values, (name, labels)
        if name == requests:
            assert {key for key, _ in labels} == {"route", "method", "status", "plan"}


def test_unknown_methods_do_not_make_new_label_values(metrics_token, tenant_a):
    before = scrape()
    APIClient(HTTP_HOST=host_of(tenant_a)).generic("BREW", "/api/v1/products/")
    after = scrape()
    name, labels = "tessera_http_requests_total", {"route": "api/v1/products/", "status": "401", "plan": "team"}
    assert value(after, name, **labels, method="other") - value(before, name, **labels, method="other") == 1
    assert not any(dict(key).get("method") == "BREW" for _, key in after)


def test_top_tenants_export_is_capped(metrics_token, settings, api_client_for, tenant_a, tenant_b):
    for _ in range(3):
        api_client_for(tenant_a, "viewer").get("/api/v1/tenant/")
    api_client_for(tenant_b, "viewer").get("/api/v1/tenant/")
    series = "tessera_tenant_requests_total"
    counts = {dict(labels)["tenant"]: v for (name, labels), v in scrape().items() if name == series}
    assert counts.keys() >= {"alpha", "beta"}

    settings.METRICS_TOP_TENANTS = 1
    capped = [dict(labels) for (name, labels) in scrape() if name.startswith("tessera_tenant_requests")]
    busiest = max(counts, key=lambda slug: (counts[slug], slug))
    assert {labels["tenant"] for labels in capped} == {busiest}


def test_tenant_labels_are_the_plan_never_the_slug(rf, tenant_a, public_tenant):
    request = rf.get("/")
    assert request_labels(request) == TenantLabels(plan="none")
    request.tenant = public_tenant
    assert request_labels(request) == TenantLabels(plan="public", schema="public")
    request.tenant = tenant_a
    assert request_labels(request) == TenantLabels(plan="team", slug="alpha", schema="alpha")


def test_cache_hits_and_misses_are_counted(metrics_token):
    platform = caches["platform"]
    key = f"metrics-test-{uuid.uuid4().hex}"
    before = scrape()
    assert platform.get(key) is None
    platform.set(key, 0)  # a stored falsy value is still a hit
    assert platform.get(key) == 0
    assert platform.get_many([key, f"{key}-missing"]) == {key: 0}
    after = scrape()
    name = "tessera_cache_requests_total"
    assert value(after, name, cache="platform", result="hit") - value(before, name, cache="platform", result="hit") == 2
    assert (
        value(after, name, cache="platform", result="miss") - value(before, name, cache="platform", result="miss") == 2
    )


def test_celery_tasks_are_counted_timed_and_failures_named(metrics_token, tenant_a):
    before = scrape()
    assert tenant_usage_report.apply(kwargs={"schema_name": tenant_a.schema_name}).successful()
    assert tenant_usage_report.apply(kwargs={"schema_name": "no_such_schema"}).failed()
    after = scrape()
    task = tenant_usage_report.name

    def moved(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("tessera_celery_tasks_total", task=task, state="SUCCESS") == 1
    assert moved("tessera_celery_tasks_total", task=task, state="FAILURE") == 1
    assert moved("tessera_celery_task_duration_seconds_count", task=task, state="SUCCESS") == 1
    assert moved("tessera_celery_task_failures_total", task=task, exception="DoesNotExist") == 1


def test_provisioning_duration_is_observed_by_outcome(metrics_token):
    before = scrape()
    TenantFactory(slug="metrics-probe")
    with pytest.raises(Exception):  # noqa: B017 - any refusal of an invalid slug
        TenantFactory(slug="Not A Slug")
    after = scrape()
    count = "tessera_tenant_provision_duration_seconds_count"
    assert value(after, count, outcome="ok") - value(before, count, outcome="ok") == 1
    assert value(after, count, outcome="error") - value(before, count, outcome="error") == 1
    assert value(after, "tessera_tenant_provision_duration_seconds_sum", outcome="ok") > value(
        before, "tessera_tenant_provision_duration_seconds_sum", outcome="ok"
    )


def test_schema_migrations_are_timed_per_schema(metrics_token):
    before = scrape()
    # Only the tenant side: the template schema, migrated by django-tenants' executor.
    call_command("migrate_schemas", "--tenant", schema_name="_template", interactive=False, verbosity=0)
    after = scrape()
    count = "tessera_schema_migration_duration_seconds_count"
    assert value(after, count, kind="template") - value(before, count, kind="template") >= 1
