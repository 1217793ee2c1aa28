"""Schemas kept by `delete_tenant`: listed, dropped, or attached to a new tenant row."""

import io

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import Membership
from audit.models import AuditEvent
from audit.platform.models import PlatformEvent
from tenants.models import Tenant
from tenants.selectors import leftover_schema_list
from tenants.services import tenant_attach
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def kept():
    """A tenant deleted without --drop-schema: its schema `rho_co` holds its trail."""
    TenantFactory(slug="rho-co", name="Rho Co")
    run("delete_tenant", "rho-co", "--yes")
    return "rho_co"


def test_a_kept_schema_is_listed_and_named_by_delete_and_provision(kept, tenant_a):
    assert kept in leftover_schema_list() and tenant_a.schema_name not in leftover_schema_list()
    assert "_template" not in leftover_schema_list() and "public" not in leftover_schema_list()
    listing = run("leftover_schemas")
    assert listing.startswith("rho_co  ") or "\nrho_co  " in listing
    with pytest.raises(CommandError, match=r'No tenant with slug "rho-co", but its schema "rho_co" was kept'):
        run("delete_tenant", "rho-co")
    with pytest.raises(CommandError, match="leftover_schemas"):
        run("provision_tenant", "rho-co", "--name", "Rho", "--owner-email", "r@x.test")


def test_delete_tenant_drop_schema_drops_a_kept_schema(kept):
    out = run("delete_tenant", "rho-co", "--drop-schema", "--yes")
    assert 'Dropped the kept schema "rho_co"' in out and not schema_exists(kept)
    event = PlatformEvent.objects.get(action="tenant.deleted", object_id=kept)
    assert event.changes == {"schema": [kept, None], "leftover": True} and event.source == "command"
    # The slug is free again.
    assert "rho-co.localhost" in run("provision_tenant", "rho-co", "--name", "Rho", "--owner-email", "r@x.test")


def test_drop_asks_first(kept, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Not confirmed"):
        run("leftover_schemas", "--drop", kept)
    assert schema_exists(kept)
    assert 'Dropped schema "rho_co"' in run("leftover_schemas", "--drop", kept, "--yes")
    assert not schema_exists(kept) and "No leftover schema." in run("leftover_schemas")


def test_attach_serves_the_kept_data_again(kept):
    out = run("leftover_schemas", "--attach", kept, "--name", "Rho Again", "--owner-email", "new-boss@rho.test")
    assert 'Attached schema "rho_co" as tenant rho-co at rho-co.localhost.' in out
    assert "Generated owner password (shown once): " in out
    tenant = Tenant.objects.get(slug="rho-co")
    assert tenant.schema_name == kept and tenant.name == "Rho Again" and kept not in leftover_schema_list()
    assert Membership.objects.get(tenant=tenant).role == "owner"
    with tenant_context(tenant):
        actions = list(AuditEvent.objects.values_list("action", flat=True))
    # The old trail is there, and the attachment is on it.
    assert actions.count("tenant.provisioned") == 2 and "membership.added" in actions
    event = PlatformEvent.objects.get(
        action="tenant.provisioned", tenant_slug="rho-co", changes__has_key="attached_schema"
    )
    assert event.changes["attached_schema"] == [None, kept]


def test_attach_under_another_slug(kept):
    result = tenant_attach(schema_name=kept, slug="rho-two", name="Rho Two", owner_email="o@rho.test")
    assert result.tenant.schema_name == kept and result.host == "rho-two.localhost"


@pytest.mark.parametrize(
    "schema, slug, message",
    [
        ("nope", "nope", 'No schema "nope" is left over'),
        ("alpha", "alpha", 'No schema "alpha" is left over'),  # a live tenant's
        ("_template", "tmpl", 'No schema "_template" is left over'),
        ("rho_co", "beta", 'A tenant with slug "beta" already exists.'),
        ("rho_co", "Bad Slug", "Slug may contain only"),
    ],
)
def test_attach_refuses_what_it_cannot_do_and_writes_nothing(kept, tenant_a, tenant_b, schema, slug, message):
    tenants = Tenant.objects.count()
    with pytest.raises(CommandError, match=message):
        run("leftover_schemas", "--attach", schema, "--slug", slug, "--name", "X", "--owner-email", "x@x.test")
    assert Tenant.objects.count() == tenants and kept in leftover_schema_list()


def test_attach_needs_a_name_and_an_owner(kept):
    with pytest.raises(CommandError, match="--attach needs --name and --owner-email"):
        run("leftover_schemas", "--attach", kept)


def test_a_live_tenants_schema_is_never_dropped_as_leftover(tenant_a):
    with pytest.raises(CommandError, match='No schema "alpha" is left over'):
        run("leftover_schemas", "--drop", "alpha", "--yes")
    assert schema_exists("alpha")
