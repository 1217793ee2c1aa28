from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel as a Django app, for its one table: idempotency records, kept in the
    public schema and in every tenant's (SHARED_APPS and TENANT_APPS both list it)."""

    name = "core"
    verbose_name = "Kernel"
    default_auto_field = "django.db.models.BigAutoField"
