"""One vocabulary of object types and actions: what services record, what the audit
filters accept, what the schema lists, and the renaming of rows recorded before it."""

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from audit.services import audit_record
from audit.sql import object_types_rename
from audit.vocabulary import ACTIONS, OBJECT_TYPES
from core.context import SOURCES
from inventory.tests.factories import ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def test_filtering_by_the_api_resource_name_finds_its_events(api_client_for, tenant_a):
    with tenant_context(tenant_a):
        supplier, product = SupplierFactory(), ProductFactory()
    member, admin = api_client_for(tenant_a, role="member"), api_client_for(tenant_a, role="admin")
    line = {"product": str(product.pk), "quantity": "1", "unit_price": "1"}
    made = member.post("/api/v1/purchase-requests/", {"supplier": str(supplier.pk), "lines": [line]}).json()
    found = admin.get("/api/v1/audit-events/?object_type=purchase_request").json()["results"]
    assert [(row["action"], row["object_type"], row["object_id"]) for row in found] == [
        ("purchase_request.created", "purchase_request", made["id"])
    ]
    assert admin.get("/api/v1/audit-events/?action=purchase_request.created").json()["count"] == 1
    assert admin.get("/api/v1/audit-events/?action_prefix=purchase_request.").json()["count"] == 1
    assert admin.get("/api/v1/audit-events/?source=api&object_type=purchase_request").json()["count"] == 1


@pytest.mark.parametrize(
    "query,field,named",
    [
        ("object_type=inventory.purchaserequest", "object_type", "purchase_request"),
        ("object_type=purchase_requests", "object_type", "stock_movement"),
        ("source=bogus", "source", "api, admin, command, task, system"),
        ("action=purchase_request.exploded", "action", "purchase_request.created"),
        ("action_prefix=bogus.", "action_prefix", "purchase_request."),
    ],
)
def test_unknown_filter_values_are_400_naming_the_accepted_ones(api_client_for, tenant_a, query, field, named):
    response = api_client_for(tenant_a, role="admin").get(f"/api/v1/audit-events/?{query}")
    assert response.status_code == 400 and list(response.json()) == [field]
    [message] = response.json()[field]
    assert named in message and query.split("=", 1)[1] in message


def test_schema_lists_the_vocabulary_as_enums(api_client_for, tenant_a):
    schema = api_client_for(tenant_a, role="admin").get("/api/schema/?format=json").json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/audit-events/"]["get"]["parameters"]}
    assert set(parameters["object_type"]["enum"]) == OBJECT_TYPES
    assert set(parameters["action"]["enum"]) == ACTIONS
    assert set(parameters["source"]["enum"]) == set(SOURCES)


def test_a_name_outside_the_vocabulary_is_not_recorded(tenant_a):
    with tenant_context(tenant_a):
        before = AuditEvent.objects.count()
        with pytest.raises(ValueError, match="not in the vocabulary"):
            audit_record(action="purchase_request.exploded", object_type="purchase_request", object_id="1")
        with pytest.raises(ValueError, match="not in the vocabulary"):
            audit_record(action="purchase_request.created", object_type="inventory.purchaserequest", object_id="1")
        assert AuditEvent.objects.count() == before


def test_in_production_a_name_outside_the_vocabulary_is_logged_and_recorded(tenant_a, settings, caplog):
    """A forgotten vocabulary line must not fail an operator's or a customer's request."""
    settings.AUDIT_STRICT_VOCABULARY = False
    with tenant_context(tenant_a):
        audit_record(action="purchase_request.exploded", object_type="purchase_request", object_id="1")
        assert AuditEvent.objects.filter(action="purchase_request.exploded").exists()
    assert 'Audit action "purchase_request.exploded" is not in the vocabulary' in caplog.text


def test_services_record_object_types_by_their_api_names(api_client_for, tenant_a):
    manager = api_client_for(tenant_a, role="manager")
    warehouse = manager.post("/api/v1/warehouses/", {"code": "VOCAB", "name": "Vocabulary"}).json()
    with tenant_context(tenant_a):
        event = AuditEvent.objects.get(object_id=warehouse["id"])
        recorded = set(AuditEvent.objects.values_list("object_type", flat=True))
    assert (event.action, event.object_type) == ("warehouse.created", "warehouse")
    assert recorded <= OBJECT_TYPES


def test_migration_renames_rows_recorded_with_django_labels(tenant_a):
    """Rows written before the vocabulary (`inventory.purchaserequest`) take its names,
    through the append-only guard, which is back on afterwards."""
    with tenant_context(tenant_a):
        old = {
            label: AuditEvent.objects.create(action="purchase_request.created", object_type=label, object_id="1")
            for label in ("inventory.purchaserequest", "accounts.user", "inventory.lowstockalert", "product")
        }
        with connection.cursor() as cursor:
            for statement in object_types_rename("audit_auditevent"):
                cursor.execute(statement)
        renamed = {label: AuditEvent.objects.get(pk=row.pk).object_type for label, row in old.items()}
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=old["product"].pk).update(object_type="forged")
    assert renamed == {
        "inventory.purchaserequest": "purchase_request",
        "accounts.user": "user",
        "inventory.lowstockalert": "lowstockalert",
        "product": "product",
    }
