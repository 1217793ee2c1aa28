from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events and webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Events are derived from the audit trail (see events/__init__.py): audit sits
        # at the bottom and never imports events, so events listens from here.
        from audit.services import audit_listener_register

        from .services import event_record_from_audit

        audit_listener_register(event_record_from_audit)
