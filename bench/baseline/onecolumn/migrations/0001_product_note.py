from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_case_insensitive_codes_and_number_counter")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE inventory_product ADD COLUMN bench_note text NOT NULL DEFAULT ''",
            "ALTER TABLE inventory_product DROP COLUMN bench_note",
        )
    ]
