from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core.observability import request_tenant_labels

        from . import signals  # noqa: F401  (cache invalidation)
        from .metrics import request_labels

        # The kernel's HTTP metrics label requests by tenant plan; only tenants knows it.
        request_tenant_labels(request_labels)
