"""Tenants made before plans existed had everything: they get the `team` plan, which
keeps every module they could use (webhooks did not exist)."""

from django.db import migrations


def assign(apps, schema_editor):
    plan = apps.get_model("plans", "Plan").objects.filter(slug="team").first()
    if plan is not None:
        apps.get_model("tenants", "Tenant").objects.filter(plan__isnull=True).exclude(schema_name="public").update(
            plan=plan
        )


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_tenant_overrides_tenant_plan"), ("plans", "0002_seed_plans")]
    operations = [migrations.RunPython(assign, migrations.RunPython.noop)]
