from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core.quotas import quota_limit_provider

        from . import signals  # noqa: F401  (cache invalidation on every change)
        from .services import entitlements

        # The kernel's quota checks ask the tenant's plan for their limits.
        quota_limit_provider(lambda tenant, name: entitlements(tenant).quota(name))
