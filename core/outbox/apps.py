from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Tasks waiting for the Celery broker (core.outbox.services). In SHARED_APPS only: one
    table, in public, which tenant requests reach through their search_path."""

    name = "core.outbox"
    label = "outbox"
    verbose_name = "Task outbox"
    default_auto_field = "django.db.models.BigAutoField"
