from django.db import migrations


class Migration(migrations.Migration):
    """Purchase request numbers come from a sequence in each tenant's schema: concurrent
    creations never collide. A rolled-back creation leaves a gap, as sequences do."""

    dependencies = [("inventory", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS inventory_purchase_request_number_seq",
            "DROP SEQUENCE IF EXISTS inventory_purchase_request_number_seq",
        ),
    ]
