from django.db import migrations

from audit.sql import object_types_rename, object_types_restore


class Migration(migrations.Migration):
    """Object types recorded as Django labels (`inventory.purchaserequest`) take the
    vocabulary's names (`purchase_request`, audit/vocabulary.py), so the trail's old
    rows answer the same filters as new ones. Actions keep their names."""

    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.RunSQL(object_types_rename("audit_auditevent"), object_types_restore("audit_auditevent")),
    ]
