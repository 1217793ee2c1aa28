from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import schema, signals  # noqa: F401  (OpenAPI scheme; membership cache invalidation)
