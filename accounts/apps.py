from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core.localcache import stamps_provider_register

        from . import schema, signals  # noqa: F401  (OpenAPI scheme; membership cache invalidation)
        from .authentication import user_version_to_prefetch

        stamps_provider_register(user_version_to_prefetch)
