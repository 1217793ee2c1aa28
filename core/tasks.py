"""The base classes of every Celery task: tenant schemas stay where they belong.

A worker process reuses its database connection from task to task; a task that set a
tenant schema and returned (or raised) would leave the next task in that schema.
`TenantAwareTask` (every task's base, config/celery.py) therefore resets to public
before and after every task, and a task that works on tenant data takes `schema_name`
and runs inside that schema only.

`TenantScopedTask` is for tasks that only make sense in a tenant: called without a
tenant schema (or with public), it refuses to run rather than work on public data.
"""

from celery import Task
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

from core.context import meta_context
from core.errors import ApplicationError


class MissingTenant(ApplicationError):
    code = "missing_tenant"
    default_message = "This task runs in a tenant's schema: give it schema_name."


class TenantAwareTask(Task):
    def __call__(self, *args, **kwargs):
        # Run eagerly (a command's --sync, a task calling another in-process), the task
        # is nested in its caller's work: give the caller its schema back afterwards.
        caller = getattr(connection, "tenant", None) if self.request.is_eager else None
        connection.set_schema_to_public()
        try:
            with meta_context(source="task", request_id=self.request.id or ""):
                schema_name = kwargs.get("schema_name")
                if schema_name:
                    with schema_context(schema_name):
                        return super().__call__(*args, **kwargs)
                return super().__call__(*args, **kwargs)
        finally:
            if caller is not None:
                connection.set_tenant(caller)
            else:
                connection.set_schema_to_public()


class TenantScopedTask(TenantAwareTask):
    def __call__(self, *args, **kwargs):
        if kwargs.get("schema_name") in (None, "", get_public_schema_name()):
            raise MissingTenant()
        return super().__call__(*args, **kwargs)
