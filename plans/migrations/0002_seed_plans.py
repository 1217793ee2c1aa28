"""The plans a new installation starts with. Data, not code: operators edit them in the
admin afterwards, and this migration never runs again."""

from django.db import migrations

MIB = 1024 * 1024
PLANS = [
    {
        "slug": "free",
        "name": "Free",
        "description": "Inventory for a small team.",
        "modules": ["inventory"],
        "quotas": {
            "members": 3,
            "products": 100,
            "warehouses": 1,
            "storage_bytes": 100 * MIB,
            "api_requests_per_minute": 60,
        },
    },
    {
        "slug": "team",
        "name": "Team",
        "description": "Inventory, documents and weekly reports.",
        "modules": ["inventory", "documents", "reports"],
        "quotas": {
            "members": 25,
            "products": 5000,
            "warehouses": 10,
            "storage_bytes": 10 * 1024 * MIB,
            "api_requests_per_minute": 600,
        },
    },
    {
        "slug": "business",
        "name": "Business",
        "description": "Everything, webhooks included, without limits but the API rate.",
        "modules": ["inventory", "documents", "reports", "webhooks"],
        "quotas": {"api_requests_per_minute": 3000},
    },
]


def seed(apps, schema_editor):
    plan = apps.get_model("plans", "Plan")
    for fields in PLANS:
        plan.objects.get_or_create(slug=fields["slug"], defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
