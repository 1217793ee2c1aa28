"""The backend's table list (core.postgresql.introspection): the answer django-tenants
gives, for one schema and nothing of any other."""

import pytest
from django.db import connection
from django_tenants.postgresql_backend.introspection import DatabaseSchemaIntrospection
from django_tenants.utils import schema_context

from core.postgresql.introspection import SchemaIntrospection

pytestmark = pytest.mark.django_db(transaction=False)

KINDS = """
    CREATE SCHEMA introspected;
    CREATE TABLE introspected.plain (id serial PRIMARY KEY, label text);
    COMMENT ON TABLE introspected.plain IS 'a table with a comment';
    CREATE VIEW introspected.plain_view AS SELECT id FROM introspected.plain;
    CREATE MATERIALIZED VIEW introspected.plain_matview AS SELECT id FROM introspected.plain;
    CREATE TABLE introspected.parted (day int) PARTITION BY RANGE (day);
    CREATE TABLE introspected.parted_early PARTITION OF introspected.parted FOR VALUES FROM (1) TO (15);
    CREATE SEQUENCE introspected.lone_sequence;
    CREATE TABLE introspected."Mixed Case" (id int);
"""


def both_lists(schema: str) -> tuple[list, list]:
    with schema_context(schema), connection.cursor() as cursor:
        ours = sorted(SchemaIntrospection(connection).get_table_list(cursor))
        theirs = sorted(DatabaseSchemaIntrospection(connection).get_table_list(cursor))
    return ours, theirs


def test_the_backend_uses_the_schema_bound_listing():
    assert isinstance(connection.introspection, SchemaIntrospection)


def test_every_kind_of_relation_is_listed_as_django_tenants_lists_it():
    with connection.cursor() as cursor:
        cursor.execute(KINDS)
    ours, theirs = both_lists("introspected")
    assert ours == theirs
    assert {(info.name, info.type) for info in ours} == {
        ("plain", "t"),
        ("plain_view", "v"),
        ("plain_matview", "v"),
        ("parted", "t"),
        ("parted_early", "p"),
        ("Mixed Case", "t"),
    }
    assert next(info.comment for info in ours if info.name == "plain") == "a table with a comment"


def test_a_tenant_schema_lists_its_own_tables_and_no_other_schemas(tenant_a, tenant_b):
    ours, theirs = both_lists(tenant_a.schema_name)
    assert ours == theirs
    names = {info.name for info in ours}
    assert {"inventory_product", "django_migrations"} <= names
    assert not names & {"tenants_tenant", "accounts_user"}  # public's, not the tenant's
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{tenant_b.schema_name}".only_in_b (id int)')
    assert "only_in_b" not in {info.name for info in both_lists(tenant_a.schema_name)[0]}
    assert "only_in_b" in {info.name for info in both_lists(tenant_b.schema_name)[0]}


def test_public_lists_the_shared_tables(public_tenant):
    ours, theirs = both_lists("public")
    assert ours == theirs
    assert {"tenants_tenant", "accounts_user", "django_migrations"} <= {info.name for info in ours}


def test_a_schema_that_does_not_exist_has_no_tables():
    assert both_lists("no_such_schema") == ([], [])
