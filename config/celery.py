"""The Celery app. Every task's base class is core.tasks.TenantAwareTask, which keeps
tenant schemas safe in workers (see there)."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

from core import task_metrics  # noqa: F401  (task metrics: receivers of Celery's signals)
from core.tasks import TenantAwareTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


@setup_logging.connect
def _log_through_django_settings(**kwargs):
    """Workers and beat log through settings.LOGGING (JSON in production, secrets
    redacted) rather than the handlers Celery would install on the root logger."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


app = Celery("tessera", task_cls=TenantAwareTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
