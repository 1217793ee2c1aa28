from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Contributions to tenants' registry: tenants sits below documents and never
        # imports it (as inventory does).
        from tenants.usage import usage_provider

        from .selectors import document_count, stored_bytes

        usage_provider("documents")(lambda tenant: document_count())
        usage_provider("storage_bytes")(lambda tenant: stored_bytes())
