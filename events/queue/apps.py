from django.apps import AppConfig


class EventsQueueConfig(AppConfig):
    """Which tenants have events or retries to dispatch (events.queue.models). In
    SHARED_APPS only: one table, in public, which a tenant's write reaches through its
    search_path, in the write's own transaction."""

    name = "events.queue"
    label = "events_queue"
    verbose_name = "Event dispatch queue"
    default_auto_field = "django.db.models.BigAutoField"
