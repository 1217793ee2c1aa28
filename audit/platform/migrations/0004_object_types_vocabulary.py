from django.db import migrations

from audit.sql import object_types_rename, object_types_restore


class Migration(migrations.Migration):
    """The platform log's object types take the vocabulary's names, as the tenant
    trails' do (audit 0003)."""

    dependencies = [("platform_audit", "0003_security_event")]

    operations = [
        migrations.RunSQL(
            object_types_rename("platform_audit_platformevent"), object_types_restore("platform_audit_platformevent")
        ),
    ]
