from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Contributions to tenants' registries: tenants sits below documents and never
        # imports it (as inventory does).
        from tenants.jobs import job_step
        from tenants.usage import usage_provider

        from .selectors import document_count, stored_bytes
        from .services import blob_orphans_purge

        usage_provider("documents")(lambda tenant: document_count())
        usage_provider("storage_bytes")(lambda tenant: stored_bytes())

        @job_step("daily_cleanup", "orphan_blobs", module="documents")
        def _orphans(*, tenant, period_start, period_end) -> str:
            return f"{blob_orphans_purge(limit=100_000)} orphan blob(s) removed"
