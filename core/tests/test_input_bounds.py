"""Bad input is a 4xx in the API's error shape, never a 500: JSON depth and size, form
field counts, over-long URLs, out-of-range time-zone offsets in date filters."""

import json
import re
from urllib.parse import quote

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from core.openapi import decimal_pattern

pytestmark = pytest.mark.django_db

DEEP = 100_000


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def post_raw(client, path: str, body: str, content_type: str = "application/json"):
    return client.generic("POST", path, body.encode(), content_type=content_type)


@pytest.fixture
def endpoints(api_client_for, tenant_a, public_tenant):
    """JSON endpoints a deep body could reach: anonymous (sign-in on both hosts) and
    authenticated (a stock movement, a purchase request)."""
    return [
        (api_client_for(public_tenant), "/api/v1/auth/token/"),
        (api_client_for(tenant_a), "/api/v1/auth/token/"),
        (api_client_for(tenant_a, role="member"), "/api/v1/stock-movements/"),
        (api_client_for(tenant_a, role="member"), "/api/v1/purchase-requests/"),
    ]


def test_json_parser_refuses_100000_deep_nesting_as_parse_error(endpoints):
    for client, path in endpoints:
        response = post_raw(client, path, nested(DEEP))
        assert response.status_code == 400, path
        assert response.json()["code"] == "parse_error", path


def test_json_parser_refuses_one_level_beyond_the_depth_limit(api_client_for, tenant_a):
    client = api_client_for(tenant_a)
    with override_settings(JSON_MAX_DEPTH=8):
        at_limit = post_raw(client, "/api/v1/auth/token/", json.dumps({"email": json.loads(nested(7))}))
        beyond = post_raw(client, "/api/v1/auth/token/", json.dumps({"email": json.loads(nested(8))}))
    # At the limit the body is parsed and the serializer judges it (names the field).
    assert at_limit.status_code == 400 and "email" in at_limit.json()
    assert beyond.status_code == 400 and beyond.json()["code"] == "parse_error"
    assert "8" in beyond.json()["detail"]


def test_json_depth_limit_defaults_to_32(api_client_for, tenant_a):
    client = api_client_for(tenant_a)
    assert "email" in post_raw(client, "/api/v1/auth/token/", json.dumps({"email": json.loads(nested(31))})).json()
    refused = post_raw(client, "/api/v1/auth/token/", json.dumps({"email": json.loads(nested(32))}))
    assert refused.json()["code"] == "parse_error"


def test_json_body_over_data_upload_max_memory_size_is_413(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="member")
    body = json.dumps({"kind": "receipt", "note": "x" * 5000})
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = post_raw(client, "/api/v1/stock-movements/", body)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large" and response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_the_api_takes_json_only_and_says_so(api_client_for, tenant_a, content_type):
    """Form bodies are refused before they are parsed, however large or many-fielded:
    415 in the API's shape. (Django's own forms, the admin's, are bounded below.)"""
    client = api_client_for(tenant_a)
    body = "&".join(f"f{n}=" + "x" * 100 for n in range(50))
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000, DATA_UPLOAD_MAX_NUMBER_FIELDS=10):
        response = post_raw(client, "/api/v1/auth/token/", body, content_type)
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"


def test_djangos_own_early_errors_answer_json(public_tenant):
    """Outside DRF (the admin's login form reads request.POST itself), Django raises
    and its handler400 answers: in the API's JSON shape too."""
    client = Client(HTTP_HOST="localhost")
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        too_big = client.post(
            "/admin/login/", "username=" + "x" * 5000, content_type="application/x-www-form-urlencoded"
        )
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10):
        too_many = client.post(
            "/admin/login/", "&".join(f"f{n}=1" for n in range(50)), content_type="application/x-www-form-urlencoded"
        )
    assert too_big.status_code == 413 and too_big.json()["code"] == "request_too_large"
    assert too_many.status_code == 400 and too_many.json()["code"] == "too_many_fields"


@pytest.mark.parametrize("host", ["alpha.localhost", "localhost", "unknown.example"])
def test_over_long_url_is_json_414(platform, host):
    response = APIClient(HTTP_HOST=host).get("/api/v1/products/?search=" + "a" * 3000)
    assert response.status_code == 414
    assert response.json()["code"] == "uri_too_long"


def test_url_within_the_limit_is_served(api_client_for, tenant_a):
    response = api_client_for(tenant_a, role="viewer").get("/api/v1/products/?search=" + "a" * 1500)
    assert response.status_code == 200


# --- date filters ----------------------------------------------------------------------

FILTERS = [
    ("/api/v1/stock-movements/", "created_at"),
    ("/api/v1/audit-events/", "at"),
]


@pytest.mark.parametrize(("path", "field"), FILTERS)
@pytest.mark.parametrize("offset", ["+24:00", "-99:00", "+1:00"])
@pytest.mark.parametrize("side", ["after", "before"])
def test_date_filter_with_an_offset_that_is_no_offset_is_400_naming_the_field(
    api_client_for, tenant_a, path, field, offset, side
):
    value = quote(f"2025-01-01T00:00:00{offset}")
    response = api_client_for(tenant_a, role="admin").get(f"{path}?{field}_{side}={value}")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(("path", "field"), FILTERS)
@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:59"])
def test_date_filter_offsets_postgresql_would_refuse_are_served_in_utc(api_client_for, tenant_a, path, field, offset):
    """ISO 8601 (and the schema's date-time) allow offsets up to +/-23:59, PostgreSQL
    only +/-15:59: values reach the query converted to UTC, so all are served."""
    value = quote(f"2025-01-01T00:00:00{offset}")
    response = api_client_for(tenant_a, role="admin").get(f"{path}?{field}_after={value}")
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "field"), FILTERS)
@pytest.mark.parametrize("offset", ["+15:59", "-12:00", "+14:00", "Z", ""])
def test_date_filter_with_real_offsets_is_served(api_client_for, tenant_a, path, field, offset):
    value = quote(f"2025-01-01T00:00:00{offset}")
    response = api_client_for(tenant_a, role="admin").get(f"{path}?{field}_after={value}&{field}_before={value}")
    assert response.status_code == 200, response.content


def test_page_size_that_is_not_a_number_is_400_naming_it(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="viewer")
    assert client.get("/api/v1/products/?page_size=7").status_code == 200
    response = client.get("/api/v1/products/?page_size=null")
    assert response.status_code == 400 and "page_size" in response.json()


@pytest.mark.parametrize("query", ["page=", "page=0", "page=-1", "page=abc", "page=1&page=", "page=%D9%A3"])
def test_page_that_is_not_one_positive_number_is_400_naming_it(api_client_for, tenant_a, query):
    """DRF reads `?page=` and `?page=2&page=` as page 1: a client's bug would look like data."""
    client = api_client_for(tenant_a, role="viewer")
    for path in ("/api/v1/products/", "/api/v1/products/low-stock/", "/api/v1/stock-movements/"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400 and "page" in response.json(), (path, response.content)
    assert client.get("/api/v1/products/?page=1").status_code == 200
    assert client.get("/api/v1/products/?page=999").status_code == 404


def test_filter_given_twice_is_400_naming_it(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="viewer")
    response = client.get("/api/v1/products/?is_active=true&is_active=false")
    assert response.status_code == 400 and "is_active" in response.json()
    response = client.get("/api/v1/warehouses/?ordering=code&ordering=name")
    assert response.status_code == 400 and "ordering" in response.json()


def test_strings_and_decimals_take_only_json_strings(api_client_for, tenant_a):
    """Where the schema says string, a JSON number is refused naming the field: DRF
    would turn 42 into "42", and a decimal sent as a float may not be the one meant."""
    client = api_client_for(tenant_a, role="manager")
    as_number = client.post("/api/v1/products/", {"sku": 42, "name": "Bolt"}, format="json")
    assert as_number.status_code == 400 and "sku" in as_number.json()
    as_float = client.post("/api/v1/products/", {"sku": "B-1", "name": "Bolt", "reorder_level": 0.1}, format="json")
    assert as_float.status_code == 400 and "reorder_level" in as_float.json()
    fine = client.post("/api/v1/products/", {"sku": "B-1", "name": "Bolt", "reorder_level": "0.1"}, format="json")
    assert fine.status_code == 201 and fine.json()["reorder_level"] == "0.100"


@pytest.mark.parametrize(
    "value,non_negative,positive",
    [
        ("0", True, False),
        ("0.000", True, False),
        (".001", True, True),
        ("12345678901.5", True, True),
        ("123456789012", False, False),
        ("1.2345", False, False),
        ("-1", False, False),
        ("", False, False),
    ],
)
def test_decimal_patterns_in_the_schema_match_what_the_field_takes(value, non_negative, positive):
    assert bool(re.match(decimal_pattern(max_digits=14, decimal_places=3, positive=False), value)) == non_negative
    assert bool(re.match(decimal_pattern(max_digits=14, decimal_places=3, positive=True), value)) == positive


@pytest.mark.parametrize("query", ["is_active=null", "is_active=2", "sku=&is_active=yes"])
def test_filter_values_that_are_not_what_the_schema_says_are_400(api_client_for, tenant_a, query):
    """django-filter used to drop a value it could not read and list everything."""
    response = api_client_for(tenant_a, role="viewer").get(f"/api/v1/products/?{query}")
    assert response.status_code == 400 and "is_active" in response.json()


def test_empty_id_filter_is_400_and_unknown_id_is_an_empty_list(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="viewer")
    empty = client.get("/api/v1/stock-levels/?warehouse=")
    assert empty.status_code == 400 and "warehouse" in empty.json()
    unknown = client.get("/api/v1/stock-levels/?warehouse=00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 200 and unknown.json()["count"] == 0


def test_booleans_take_only_json_booleans(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="manager")
    response = client.post("/api/v1/products/", {"sku": "B-2", "name": "Bolt", "is_active": 0}, format="json")
    assert response.status_code == 400 and "is_active" in response.json()


def test_nul_in_a_search_is_400_in_the_documented_shape(api_client_for, tenant_a):
    response = api_client_for(tenant_a, role="viewer").get("/api/v1/suppliers/?search=a%00b")
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body, dict) and body["code"] == "invalid" and "Null characters" in body["detail"]


def test_ordering_by_a_field_not_offered_is_400_naming_it(api_client_for, tenant_a):
    client = api_client_for(tenant_a, role="viewer")
    assert client.get("/api/v1/products/?ordering=-on_hand,sku").status_code == 200
    response = client.get("/api/v1/products/?ordering=password")
    assert response.status_code == 400 and "ordering" in response.json()


@pytest.mark.parametrize("ordering", ["", "sku,", " sku", "--sku", "sku, name"])
def test_ordering_that_is_not_a_list_of_offered_fields_is_400(api_client_for, tenant_a, ordering):
    response = api_client_for(tenant_a, role="viewer").get(f"/api/v1/products/?ordering={quote(ordering)}")
    assert response.status_code == 400 and "ordering" in response.json()


@pytest.mark.parametrize("path", ["/api/v1/members/?status=", "/api/v1/audit-events/?at_before="])
def test_an_empty_query_value_is_not_taken_as_absent(api_client_for, tenant_a, path):
    response = api_client_for(tenant_a, role="admin").get(path)
    assert response.status_code == 400
