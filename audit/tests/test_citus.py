"""The retention purge on Citus (docs/scaling.md), checked on plain PostgreSQL.

The append-only trigger runs where the rows are: on Citus, on the worker holding the
tenant's shard. The purge's permission must reach it: a SET LOCAL (forwarded with
`citus.propagate_set_commands = 'local'`), not set_config(), which Citus keeps on the
coordinator. The purge's effect is tested in test_audit.py, on Citus too when the suite
runs there (CITUS_DATABASE_URL).
"""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from audit.services import audit_purge


def test_purge_enables_itself_with_set_local_forwarded_by_citus(tenant_a):
    with tenant_context(tenant_a):
        AuditEvent.objects.create(action="test.aged", object_type="test", at=timezone.now() - timedelta(days=900))
        with CaptureQueriesContext(connection) as captured:
            assert audit_purge() == 1
    sql = [query["sql"] for query in captured.captured_queries]
    delete = next(i for i, statement in enumerate(sql) if statement.startswith("DELETE"))
    propagate = sql.index("SET LOCAL citus.propagate_set_commands = 'local'")
    assert propagate < sql.index("SET LOCAL tessera.audit_purge = 'on'") < delete
    assert sql.index("SET LOCAL tessera.audit_purge = 'off'") > delete
    assert not [statement for statement in sql if "set_config" in statement]
