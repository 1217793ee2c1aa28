"""Which plans sign-up offers. The seeded free and team plans are; business is sold by
operators. Existing installations keep whatever an operator set since (only the seeded
slugs are touched, and only when they still exist)."""

from django.db import migrations, models


def offer_seeded(apps, schema_editor):
    apps.get_model("plans", "Plan").objects.filter(slug__in=["free", "team"]).update(self_service=True)


class Migration(migrations.Migration):
    dependencies = [("plans", "0002_seed_plans")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="self_service",
            field=models.BooleanField(
                default=False,
                help_text="Offered at sign-up (and listed by GET /api/v1/plans/). Other plans are given by operators.",
            ),
        ),
        migrations.RunPython(offer_seeded, migrations.RunPython.noop),
    ]
