from django.apps import AppConfig


class PlatformAuditConfig(AppConfig):
    name = "audit.platform"
    label = "platform_audit"
    verbose_name = "Platform events"
    default_auto_field = "django.db.models.BigAutoField"
