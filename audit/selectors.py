from django.db.models import QuerySet

from .models import AuditEvent


def audit_event_list() -> QuerySet[AuditEvent]:
    """This tenant's trail (the connection's schema), newest first."""
    return AuditEvent.objects.order_by("-at")
