"""The Celery app, and the base task that makes tenant schemas safe in workers.

A worker process reuses its database connection from task to task; a task that set a
tenant schema and returned (or raised) would leave the next task in that schema. The
base class therefore resets to public before and after every task, and a task that
works on tenant data takes `schema_name` and runs inside that schema only.
"""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class TenantAwareTask(Task):
    def __call__(self, *args, **kwargs):
        from django.db import connection
        from django_tenants.utils import schema_context

        from core.context import meta_context

        connection.set_schema_to_public()
        try:
            with meta_context(source="task", request_id=self.request.id or ""):
                schema_name = kwargs.get("schema_name")
                if schema_name:
                    with schema_context(schema_name):
                        return super().__call__(*args, **kwargs)
                return super().__call__(*args, **kwargs)
        finally:
            connection.set_schema_to_public()


app = Celery("tessera", task_cls=TenantAwareTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
