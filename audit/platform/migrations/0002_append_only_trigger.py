from django.db import migrations

from django.conf import settings

from audit.sql import guard_function, guard_table, unguard_table


class Migration(migrations.Migration):
    dependencies = [("platform_audit", "0001_initial")]

    operations = [
        migrations.RunSQL(
            [guard_function(settings.AUDIT_RETENTION_DAYS), *guard_table("platform_audit_platformevent")],
            unguard_table("platform_audit_platformevent"),
        ),
    ]
