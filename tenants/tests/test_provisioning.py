"""Provisioning and lifecycle commands: atomic, validated, one-line errors."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists

from accounts.models import Membership, User
from audit.platform.models import PlatformEvent
from tenants.models import Domain, Tenant, TenantStatus
from tenants.services import tenant_provision
from testing.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def run(*args, stdin: str | None = None) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def tables_in(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def migrations_in(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def state() -> tuple:
    """Everything provisioning could leave behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace ORDER BY 1")
        schemas = [row[0] for row in cursor.fetchall()]
    return (
        list(Tenant.objects.values_list("slug", flat=True)),
        list(Domain.objects.values_list("domain", flat=True)),
        list(User.objects.values_list("email", flat=True)),
        list(Membership.objects.values_list("pk", flat=True)),
        schemas,
    )


def test_provision_tenant_creates_everything_from_the_template(platform):
    out = run("provision_tenant", "gamma-co", "--name", "Gamma Co", "--owner-email", "Boss@Gamma.test")

    assert "://gamma-co.localhost/api/v1/" in out
    assert "Generated owner password" in out
    tenant = Tenant.objects.get(slug="gamma-co")
    assert tenant.schema_name == "gamma_co" and tenant.status == TenantStatus.ACTIVE
    assert tables_in("gamma_co") == tables_in("_template")
    assert migrations_in("gamma_co") == migrations_in("_template")
    assert list(tenant.domains.values_list("domain", "is_primary")) == [("gamma-co.localhost", True)]
    owner = Membership.objects.get(tenant=tenant)
    assert owner.role == "owner" and owner.user.email == "boss@gamma.test"
    assert PlatformEvent.objects.filter(action="tenant.provisioned", object_id=str(tenant.pk)).exists()


def test_provision_with_existing_user_and_custom_domain(settings, platform):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".example.com"]  # else the domain is refused
    existing = platform.user(platform.tenants["alpha"], "viewer")
    out = run(
        "provision_tenant",
        "delta",
        "--name",
        "Delta",
        "--owner-email",
        existing.email.upper(),
        "--domain",
        "Delta.Example.COM",
    )
    assert "existing user" in out and "Generated" not in out
    tenant = Tenant.objects.get(slug="delta")
    assert Membership.objects.get(tenant=tenant).user == existing
    assert set(tenant.domains.values_list("domain", flat=True)) == {"delta.localhost", "delta.example.com"}


@pytest.mark.parametrize(
    "slug",
    [
        "Acme",
        "has space",
        "public",
        "www",
        "admin",
        "a" * 64,
        "acme!",
        "acme.co",
        "-acme",
        "acme-",
        "9lives",
        "pg-x",
        "",
    ],
)
def test_provision_rejects_invalid_slug_and_leaves_nothing(platform, slug):
    before = state()
    with pytest.raises(CommandError) as error:
        run("provision_tenant", slug, "--name", "X", "--owner-email", "new-owner@x.test")
    assert "\n" not in str(error.value)
    assert state() == before


def test_provision_duplicate_slug_fails_and_changes_nothing(platform):
    before = state()
    with pytest.raises(CommandError, match='slug "alpha" already exists'):
        run("provision_tenant", "alpha", "--name", "Again", "--owner-email", "someone-new@x.test")
    assert state() == before


def test_provision_failure_after_schema_clone_rolls_everything_back(platform, monkeypatch):
    from accounts import services as account_services

    record = account_services.audit_record

    def fail_on_membership(**kwargs):
        if kwargs["action"] == "membership.added":
            raise RuntimeError("disk full")
        return record(**kwargs)

    # The last step fails: schema, row, domain, owner and membership all exist by then.
    monkeypatch.setattr(account_services, "audit_record", fail_on_membership)
    before = state()
    with pytest.raises(RuntimeError):
        tenant_provision(slug="lambda", name="Lambda", owner_email="l@x.test", owner_password=PASSWORD)
    assert state() == before


def test_provision_invalid_input_found_midway_leaves_nothing(settings, platform):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".example.com"]
    # The custom domain is taken by another tenant.
    Domain.objects.create(domain="shared.example.com", tenant=platform.tenants["beta"])
    before = state()
    with pytest.raises(CommandError, match="already in use"):
        run("provision_tenant", "epsilon", "--name", "E", "--owner-email", "e@x.test", "--domain", "shared.example.com")
    assert state() == before

    # A weak password for the new owner fails midway: still nothing left behind.
    with pytest.raises(CommandError, match="too short"):
        run("provision_tenant", "zeta", "--name", "Z", "--owner-email", "z@x.test", "--owner-password", "short")
    assert state() == before


def test_provision_rejects_custom_domain_under_public_domain(platform):
    before = state()
    with pytest.raises(CommandError, match="subdomains"):
        run("provision_tenant", "eta", "--name", "Eta", "--owner-email", "eta@x.test", "--domain", "beta.localhost")
    assert state() == before


def test_list_and_status_commands(platform):
    assert "alpha" in run("list_tenants") and "beta" in run("list_tenants")
    assert "now suspended" in run("suspend_tenant", "alpha")
    assert "alpha" in run("list_tenants", "--status", "suspended")
    assert "beta" not in run("list_tenants", "--status", "suspended")
    with pytest.raises(CommandError, match="it is suspended"):
        run("suspend_tenant", "alpha")
    assert "now active" in run("resume_tenant", "alpha")
    assert "now archived" in run("archive_tenant", "alpha")
    assert Tenant.objects.get(slug="alpha").status == TenantStatus.ARCHIVED
    with pytest.raises(CommandError, match='No tenant with slug "nope"'):
        run("suspend_tenant", "nope")
    actions = list(PlatformEvent.objects.filter(tenant_slug="alpha").values_list("action", flat=True))
    assert {"tenant.suspended", "tenant.resumed", "tenant.archived"} <= set(actions)


def test_delete_tenant_needs_confirmation(platform, monkeypatch):
    run("provision_tenant", "theta", "--name", "Theta", "--owner-email", "t@x.test")
    monkeypatch.setattr("builtins.input", lambda prompt: "wrong")
    with pytest.raises(CommandError, match="Not confirmed"):
        run("delete_tenant", "theta", "--drop-schema")
    assert Tenant.objects.filter(slug="theta").exists() and schema_exists("theta")


def test_delete_tenant_drop_schema_removes_all(platform):
    run("provision_tenant", "iota", "--name", "Iota", "--owner-email", "i@x.test")
    out = run("delete_tenant", "iota", "--drop-schema", "--yes")
    assert "Deleted iota" in out
    assert not Tenant.objects.filter(slug="iota").exists()
    assert not Domain.objects.filter(domain="iota.localhost").exists()
    assert not schema_exists("iota")
    assert User.objects.filter(email="i@x.test").exists()  # people outlive tenants


def test_delete_tenant_keeping_schema_blocks_slug_reuse(platform):
    run("provision_tenant", "kappa", "--name", "Kappa", "--owner-email", "k@x.test")
    assert "kept" in run("delete_tenant", "kappa", "--yes")
    assert schema_exists("kappa")
    with pytest.raises(CommandError, match="left over from a deleted tenant"):
        run("provision_tenant", "kappa", "--name", "Kappa", "--owner-email", "k@x.test")


def test_seed_demo_is_idempotent(platform):
    first = run("seed_demo")
    counts = (Tenant.objects.count(), User.objects.count(), Membership.objects.count())
    second = run("seed_demo")
    assert counts == (Tenant.objects.count(), User.objects.count(), Membership.objects.count())
    assert first == second
    assert "owner@acme.test" in first and "viewer@globex.test" in first
    from django_tenants.utils import tenant_context

    from inventory.models import PurchaseRequest
    from inventory.selectors import product_low_stock_list

    with tenant_context(Tenant.objects.get(slug="acme")):
        assert sorted(product_low_stock_list().values_list("sku", flat=True)) == ["NUT-M8", "TAPE-50", "WASHER-M8"]
        assert list(PurchaseRequest.objects.values_list("status", flat=True)) == ["submitted"]
    assert set(Membership.objects.filter(tenant__slug="acme").values_list("role", flat=True)) == {
        "owner",
        "admin",
        "manager",
        "member",
        "viewer",
    }


def test_migrate_schemas_keeps_public_tenant_and_template_current(platform):
    run("migrate_schemas", "--noinput", "-v", "0")
    assert Tenant.objects.filter(schema_name="public").count() == 1
    assert Domain.objects.filter(domain="localhost", tenant__schema_name="public").count() == 1
    assert migrations_in("_template") == migrations_in("alpha")


def catalog(schema: str) -> dict:
    """Everything that defines a schema, printed the same way for any schema name."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, true)", [f'"{schema}"'])
        queries = {
            "columns": """
                SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                       pg_get_expr(d.adbin, d.adrelid)
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY 1, 2""",
            "constraints": """
                SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE connamespace = %s::regnamespace ORDER BY 1, 2""",
            "indexes": """
                SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c
                WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'i' ORDER BY 1""",
            "triggers": """
                SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE c.relnamespace = %s::regnamespace AND NOT t.tgisinternal ORDER BY 1""",
            "sequences": """
                SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'S' ORDER BY 1""",
        }
        result = {}
        for name, sql in queries.items():
            cursor.execute(sql, [schema])
            # Index and trigger definitions always qualify their table with the schema.
            result[name] = [tuple(str(v).replace(f" ON {schema}.", " ON ") for v in row) for row in cursor.fetchall()]
        cursor.execute("SELECT set_config('search_path', 'public', true)")
    return result


def test_clone_is_identical_to_the_template(platform):
    template, clone = catalog("_template"), catalog("alpha")
    assert template["constraints"] and template["indexes"] and template["triggers"]
    for part in template:
        assert clone[part] == template[part], part


def test_cloned_schema_works_like_a_migrated_one(platform):
    """Identity columns continue after the copied rows; the template's rows (the
    purchase request counter) come along."""
    from django.db.migrations.recorder import MigrationRecorder
    from django_tenants.utils import tenant_context

    with tenant_context(platform.tenants["alpha"]):
        MigrationRecorder.Migration.objects.create(app="clone_check", name="0001")
        with connection.cursor() as cursor:
            cursor.execute("SELECT last FROM inventory_purchaserequestcounter WHERE id = 1")
            assert cursor.fetchone()[0] >= 0
