"""The one fact about tenancy every layer may ask: which schema the connection is in.

django-tenants keeps it on the connection; app code reads it here and never switches
it (only `tenants/` and the Celery task base do, with django-tenants' own contexts).
"""

from django.db import connection
from django_tenants.utils import get_public_schema_name


def current_schema() -> str:
    return connection.schema_name  # type: ignore[attr-defined]  # set by django-tenants' backend


def in_public_schema() -> bool:
    return current_schema() == get_public_schema_name()
